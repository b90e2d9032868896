//! Field validation that collects every problem in a request, not just the first.

use rust_decimal::prelude::ToPrimitive;
use rust_decimal::Decimal;

use crate::app::error::AppError;
use crate::domain::FieldError;

#[derive(Default)]
pub struct Checker {
    errors: Vec<FieldError>,
}

impl Checker {
    pub fn new() -> Checker {
        Checker::default()
    }

    pub fn push(&mut self, field: impl Into<String>, message: impl Into<String>) {
        self.errors.push(FieldError::new(field, message));
    }

    /// Records the error of a result and returns its value, if any.
    pub fn take<T>(&mut self, field: &str, r: Result<T, String>) -> Option<T> {
        match r {
            Ok(v) => Some(v),
            Err(m) => {
                self.push(field, m);
                None
            }
        }
    }

    pub fn finish(self) -> Result<(), AppError> {
        if self.errors.is_empty() {
            Ok(())
        } else {
            Err(AppError::invalid(self.errors))
        }
    }
}

/// A human-readable name: 1–200 characters, not blank.
pub fn name(s: &str) -> Result<String, String> {
    let t = s.trim();
    if t.is_empty() {
        Err("must not be empty".into())
    } else if t.chars().count() > 200 {
        Err("must be at most 200 characters".into())
    } else {
        Ok(t.to_string())
    }
}

/// A checkpoint code: upper-case letters, digits, `_` or `-`, 1–32 characters.
pub fn upper_code(s: &str) -> Result<String, String> {
    let ok = !s.is_empty()
        && s.len() <= 32
        && s.chars()
            .all(|c| c.is_ascii_uppercase() || c.is_ascii_digit() || c == '_' || c == '-');
    if ok {
        Ok(s.to_string())
    } else {
        Err(format!("{s:?} is not a valid code: use 1–32 upper-case letters, digits, '_' or '-' (like HAKARI)"))
    }
}

/// A slug or lower-case code: lower-case letters, digits, `_` or `-`, 1–64 characters.
pub fn lower_code(s: &str) -> Result<String, String> {
    let ok = !s.is_empty()
        && s.len() <= 64
        && s.chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_' || c == '-');
    if ok {
        Ok(s.to_string())
    } else {
        Err(format!("{s:?} is not a valid code: use 1–64 lower-case letters, digits, '_' or '-' (like sunflower_oil)"))
    }
}

/// A duration such as "12h", "2d", "90m" or "1d 6h", in whole minutes, up to a year.
pub fn duration_minutes(s: &str) -> Result<i32, String> {
    let d = humantime::parse_duration(s.trim()).map_err(|e| {
        format!("{s:?} is not a duration ({e}); write it like \"12h\", \"90m\" or \"2d 6h\"")
    })?;
    let secs = d.as_secs();
    if secs == 0 || secs % 60 != 0 {
        return Err(format!("{s:?} must be a positive whole number of minutes"));
    }
    if secs > 366 * 86_400 {
        return Err(format!("{s:?} is longer than a year"));
    }
    Ok((secs / 60) as i32)
}

/// Minutes as the duration text clients send, e.g. 750 → "12h 30m".
pub fn format_minutes(m: i32) -> String {
    humantime::format_duration(std::time::Duration::from_secs(
        u64::from(m.unsigned_abs()) * 60,
    ))
    .to_string()
}

/// Hours with up to 2 decimals as whole minutes ("1.5" → 90).
/// Hours as written, exactly: too many digits is an error, never a rounding.
pub fn hours(s: &str) -> Result<Decimal, String> {
    Decimal::from_str_exact(s.trim())
        .map_err(|_| format!("{s:?} is not a number of hours; write it like \"1.5\""))
}

pub fn hours_to_minutes(h: Decimal) -> Result<i32, String> {
    if h.is_sign_negative() {
        return Err("must not be negative".into());
    }
    if h > Decimal::from(720) {
        return Err("must be at most 720 hours".into());
    }
    let minutes = h * Decimal::from(60);
    if minutes.fract() != Decimal::ZERO {
        return Err(format!("{h} h is not a whole number of minutes"));
    }
    minutes.to_i32().ok_or_else(|| "is too large".to_string())
}

/// Whole minutes as hours, exactly ("90" → 1.5).
pub fn minutes_to_hours(m: i32) -> Decimal {
    (Decimal::from(m) / Decimal::from(60)).normalize()
}

/// A density in kg/L (0 < d ≤ 5, at most 6 decimals) as integer mg/L.
pub fn density_mg_per_l(s: &str) -> Result<i64, String> {
    let d = Decimal::from_str_exact(s.trim()).map_err(|_| {
        format!("{s:?} is not a number; write the density in kg per litre, like \"0.92\"")
    })?;
    if d <= Decimal::ZERO || d > Decimal::from(5) {
        return Err("must be more than 0 and at most 5 kg/L".into());
    }
    let mg = d * Decimal::from(1_000_000);
    if mg.fract() != Decimal::ZERO {
        return Err("must have at most 6 decimals".into());
    }
    mg.to_i64().ok_or_else(|| "is too large".to_string())
}

/// Integer mg/L back to kg/L, exactly.
pub fn density_kg_per_l(mg: i64) -> Decimal {
    (Decimal::from(mg) / Decimal::from(1_000_000)).normalize()
}

pub fn latitude(v: f64) -> Result<f64, String> {
    if v.is_finite() && (-90.0..=90.0).contains(&v) {
        Ok(v)
    } else {
        Err("must be between -90 and 90".into())
    }
}

pub fn longitude(v: f64) -> Result<f64, String> {
    if v.is_finite() && (-180.0..=180.0).contains(&v) {
        Ok(v)
    } else {
        Err("must be between -180 and 180".into())
    }
}

/// A list's `limit`: 1–500, default 100.
pub fn page_limit(limit: Option<i64>) -> Result<i64, AppError> {
    match limit {
        None => Ok(100),
        Some(n) if (1..=500).contains(&n) => Ok(n),
        Some(_) => Err(AppError::field("limit", "must be between 1 and 500")),
    }
}

/// A `<micros>_<id>` cursor of lists ordered by a time and an id.
pub fn time_cursor(cursor: Option<&str>) -> Result<Option<(i64, String)>, AppError> {
    cursor
        .map(|c| {
            c.split_once('_')
                .and_then(|(at, id)| at.parse::<i64>().ok().map(|at| (at, id.to_string())))
                .ok_or_else(|| AppError::field("cursor", "is not a cursor from a previous page"))
        })
        .transpose()
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::str::FromStr;

    #[test]
    fn durations_parse_to_minutes() {
        for (input, want) in [
            ("12h", Ok(720)),
            ("90m", Ok(90)),
            ("1d 6h", Ok(1800)),
            ("2days", Ok(2880)),
        ] {
            assert_eq!(duration_minutes(input), want, "{input}");
        }
        for bad in ["", "abc", "0m", "30s", "400d"] {
            assert!(duration_minutes(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn hours_convert_to_whole_minutes() {
        assert_eq!(hours_to_minutes(Decimal::from_str("1.5").unwrap()), Ok(90));
        assert_eq!(hours_to_minutes(Decimal::from_str("0").unwrap()), Ok(0));
        assert_eq!(hours_to_minutes(Decimal::from_str("0.25").unwrap()), Ok(15));
        assert!(hours_to_minutes(Decimal::from_str("0.001").unwrap()).is_err());
        assert!(hours_to_minutes(Decimal::from_str("-1").unwrap()).is_err());
        assert_eq!(minutes_to_hours(90).to_string(), "1.5");
    }

    #[test]
    fn densities_are_exact_milligrams() {
        assert_eq!(density_mg_per_l("0.92"), Ok(920_000));
        assert_eq!(density_mg_per_l("1"), Ok(1_000_000));
        assert!(density_mg_per_l("0").is_err());
        assert!(density_mg_per_l("0.0000001").is_err());
        assert!(density_mg_per_l("x").is_err());
        assert_eq!(density_kg_per_l(920_000).to_string(), "0.92");
    }

    #[test]
    fn codes_are_checked() {
        assert!(upper_code("HAKARI").is_ok());
        assert!(upper_code("hakari").is_err());
        assert!(lower_code("sunflower_oil").is_ok());
        assert!(lower_code("Flour").is_err());
    }
}
