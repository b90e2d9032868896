use clap::Parser;

fn main() -> std::process::ExitCode {
    let cli = aidflow::cli::Cli::parse();
    match aidflow::cli::run(cli) {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("aidflow: error: {e:#}");
            std::process::ExitCode::FAILURE
        }
    }
}
