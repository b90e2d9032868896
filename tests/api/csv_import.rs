//! CSV import never loses a row: an unclosed quote or a repeated column is refused by line
//! and column, and an accepted file's `rows` is the number of data rows in it.

use serde_json::json;

use crate::api_test;
use crate::convoys::{convoy, create_convoy};
use crate::helpers::{Reply, TestApp};

api_test!(
    csv_with_an_unclosed_quote_is_refused_naming_its_line_and_column,
    csv_with_a_repeated_column_is_refused_naming_it,
    csv_rows_in_an_accepted_import_equal_the_data_rows_of_the_file,
);

async fn import(app: &TestApp, body: &str) -> Reply {
    app.send(
        app.client
            .post(app.url("/api/v1/imports/events"))
            .bearer_auth(&app.admin_token)
            .header("content-type", "text/csv")
            .body(body.to_string()),
    )
    .await
}

async fn events_stored(app: &TestApp) -> usize {
    convoy(app).await["events"].as_array().unwrap().len()
}

async fn csv_with_an_unclosed_quote_is_refused_naming_its_line_and_column(app: TestApp) {
    create_convoy(&app).await;
    // Line 3's note opens a quote that never closes: the csv reader alone would read lines
    // 3 to 5 as one row whose note holds the rest of the file, and answer "rows": 2.
    let body = "organization,convoy,kind,checkpoint,observed_at,note\n\
arm-gov,AM-2023-07-26,departed,GORIS,2023-07-26T08:10:00+04:00,\n\
arm-gov,AM-2023-07-26,held,KORNIDZOR,2023-07-26T10:00:00+04:00,\"paper form 12\n\
arm-gov,AM-2023-07-26,held,KORNIDZOR,2023-07-26T11:00:00+04:00,second\n\
arm-gov,AM-2023-07-26,held,KORNIDZOR,2023-07-26T12:00:00+04:00,third\n";
    let reply = import(&app, body).await;
    let problem = reply.problem(422);
    assert_eq!(problem["type"], "urn:aidflow:problem:validation");
    assert_eq!(reply.error_fields(), ["line 3, note"]);
    assert!(
        problem["errors"][0]["message"]
            .as_str()
            .unwrap()
            .contains("never closed"),
        "{problem}"
    );
    assert_eq!(events_stored(&app).await, 0, "nothing written");

    // With CRLF line ends, in the first column, the same.
    let crlf = "organization,convoy,kind,observed_at\r\narm-gov,AM-2023-07-26,departed,2023-07-26T08:10:00+04:00\r\narm-gov,\"AM-2023-07-26,held,2023-07-26T10:00:00+04:00\r\n";
    let reply = import(&app, crlf).await;
    reply.problem(422);
    assert_eq!(reply.error_fields(), ["line 3, convoy"]);

    // In the header, the column is named by its position.
    let reply = import(&app, "convoy,\"kind,observed_at\nA,held,now\n").await;
    reply.problem(422);
    assert_eq!(reply.error_fields(), ["line 1, column 2"]);

    // Quotes that close, "" inside a quoted value and a quoted value over two lines are
    // fine: the multi-line value is one row of the file.
    let good = "organization,convoy,kind,checkpoint,observed_at,note\n\
arm-gov,AM-2023-07-26,departed,GORIS,2023-07-26T08:10:00+04:00,\"form \"\"12\"\", page 1\"\n\
arm-gov,AM-2023-07-26,held,KORNIDZOR,2023-07-26T10:00:00+04:00,\"stopped at the bridge\nsecond line\"\n\
arm-gov,AM-2023-07-26,held,KORNIDZOR,2023-07-26T11:00:00+04:00,5\" pipe\n";
    let reply = import(&app, good).await;
    assert_eq!(reply.status, 201, "{}", reply.text);
    assert_eq!(
        reply.json(),
        json!({"rows": 3, "events": 3, "created": 3, "replayed": 0})
    );
    let c = convoy(&app).await;
    let notes: Vec<&str> = c["events"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["note"].as_str().unwrap_or_default())
        .collect();
    assert_eq!(
        notes,
        [
            "form \"12\", page 1",
            "stopped at the bridge\nsecond line",
            "5\" pipe"
        ]
    );
}

async fn csv_with_a_repeated_column_is_refused_naming_it(app: TestApp) {
    create_convoy(&app).await;
    let body = "organization,convoy,kind,checkpoint,observed_at,note,Note\n\
arm-gov,AM-2023-07-26,held,KORNIDZOR,2023-07-26T10:00:00+04:00,first,second\n";
    let reply = import(&app, body).await;
    reply.problem(422);
    assert_eq!(reply.error_fields(), ["line 1, Note"]);
    assert!(reply.json()["errors"][0]["message"]
        .as_str()
        .unwrap()
        .contains("more than once"));
    assert_eq!(events_stored(&app).await, 0, "nothing written");
}

async fn csv_rows_in_an_accepted_import_equal_the_data_rows_of_the_file(app: TestApp) {
    create_convoy(&app).await;
    let rows: Vec<String> = (0..50)
        .map(|i| {
            format!(
                "arm-gov,AM-2023-07-26,held,KORNIDZOR,2023-07-26T{:02}:{:02}:00+04:00,\"row {i}, quoted\"",
                10 + i / 60,
                i % 60
            )
        })
        .collect();
    let body = format!(
        "organization,convoy,kind,checkpoint,observed_at,note\n{}\n",
        rows.join("\n")
    );
    let reply = import(&app, &body).await;
    assert_eq!(reply.status, 201, "{}", reply.text);
    assert_eq!(
        reply.json(),
        json!({"rows": 50, "events": 50, "created": 50, "replayed": 0})
    );
    assert_eq!(events_stored(&app).await, 50);
}
