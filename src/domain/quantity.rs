//! Exact cargo quantities.
//!
//! Every quantity aidflow stores is a whole number of kilograms held in an
//! integer ([`Kg`]). Floating point is never used: a ledger that must balance
//! to the kilogram (planned = delivered + every shortfall) cannot tolerate the
//! rounding drift of binary fractions, and a donor report that says 359.999 t
//! where the field team typed 360 t destroys trust in every other number.
//!
//! Parsing is deliberately strict. A value that cannot be represented exactly
//! in kilograms is *rejected*, never rounded, because silently rounding an
//! observation changes what the field team reported. Error messages say what
//! is wrong and what to type instead, since they are shown to the person who
//! entered the value.

use std::fmt;

use rust_decimal::prelude::ToPrimitive;
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};
use thiserror::Error;

/// A quantity in whole kilograms.
///
/// Signed so that differences (for example a negative variance in a report)
/// can be expressed with the same type; observations themselves are never
/// negative and the parsers reject negative input.
pub type Kg = i64;

/// The largest quantity accepted on a single cargo line: 10,000 t.
///
/// No convoy line comes near this; the cap exists to catch typing errors
/// (an extra zero, kilograms typed into a tonnes field) before they distort
/// every total, and it keeps all sums far away from integer overflow.
pub const MAX_LINE_KG: Kg = 10_000_000;

/// Kilograms per tonne, named so that conversions read as what they mean.
const KG_PER_TONNE: Kg = 1_000;

/// The unit a quantity was entered in.
///
/// Field teams report in whatever unit is on the waybill; everything is
/// converted to [`Kg`] at the boundary so the ledger only ever sees one unit.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Unit {
    /// Metric tonnes ("t"); the unit reports are written in.
    Tonnes,
    /// Kilograms ("kg"); the unit the ledger stores.
    Kilograms,
    /// Litres ("L"); used for liquids such as vegetable oil, which must be
    /// converted with a commodity density before it can enter the ledger.
    Litres,
}

impl Unit {
    /// Parses the unit symbols used on waybills: "t", "kg", "L" (and "l",
    /// because a lowercase litre sign is common and unambiguous).
    ///
    /// Anything else is `None` rather than a guess, so that e.g. "lb" or
    /// "ton" (short ton?) never silently becomes a metric quantity.
    pub fn parse(s: &str) -> Option<Unit> {
        match s {
            "t" => Some(Unit::Tonnes),
            "kg" => Some(Unit::Kilograms),
            "L" | "l" => Some(Unit::Litres),
            _ => None,
        }
    }

    /// The canonical symbol, as accepted by [`Unit::parse`].
    pub fn symbol(self) -> &'static str {
        match self {
            Unit::Tonnes => "t",
            Unit::Kilograms => "kg",
            Unit::Litres => "L",
        }
    }
}

impl fmt::Display for Unit {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.symbol())
    }
}

/// Why a quantity could not be accepted.
///
/// Each message names the problem and the fix, because it is shown verbatim
/// to the person who typed the value.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum QuantityError {
    /// Nothing was entered.
    #[error("quantity is empty; enter a number such as 360 or 360.5")]
    Empty,
    /// The text is not a plain decimal number. Exponents, "NaN", "inf",
    /// signs other than a leading minus, thousands separators and decimal
    /// commas all land here: they are either meaningless for cargo or too
    /// easy to misread.
    #[error(
        "quantity is not a number: '{0}'; enter digits with an optional decimal point, such as 360.5"
    )]
    NotANumber(String),
    /// A negative quantity; cargo cannot be negative.
    #[error("quantity must not be negative: '{0}'; enter the amount that was observed")]
    Negative(String),
    /// The value exceeds [`MAX_LINE_KG`].
    #[error(
        "quantity must be at most 10000 t on one line ({0}); check the unit, or split the cargo over several lines"
    )]
    TooLarge(String),
    /// A tonnes value with a fractional kilogram, e.g. "0.0005".
    #[error("quantity has more precision than 1 kg ({0} t); give at most 3 decimals in tonnes")]
    TooPreciseTonnes(String),
    /// A kilogram value with a fraction, e.g. "12.5".
    #[error("quantity has more precision than 1 kg ({0} kg); give whole kilograms")]
    FractionalKilograms(String),
    /// A volume was given without a density to convert it with.
    #[error(
        "a quantity in litres needs the commodity's density in kg/L; record the density or enter the weight in kg or t instead"
    )]
    DensityMissing,
    /// The density is zero or negative, which cannot describe any cargo.
    #[error("density must be greater than 0 kg/L (got {0} kg/L); correct the commodity's density")]
    InvalidDensity(Decimal),
    /// A volume or density with so many decimals that the weight cannot be
    /// computed exactly; no real waybill has these, so it is a typing error.
    #[error(
        "{litres} L at {density} kg/L has too many decimals to convert exactly; enter the weight in kg or t instead"
    )]
    TooPreciseVolume {
        /// The litres as entered.
        litres: String,
        /// The density used, normalised.
        density: Decimal,
    },
    /// A volume whose weight is not a whole number of kilograms.
    #[error(
        "{litres} L at {density} kg/L is {kg} kg; aidflow stores whole kilograms: enter the weight in kg or t instead"
    )]
    NotWholeKilograms {
        /// The litres as entered.
        litres: String,
        /// The density used, normalised (no trailing zeros).
        density: Decimal,
        /// The exact, fractional weight, normalised.
        kg: Decimal,
    },
}

/// A syntactically valid non-exponent decimal, split into digit strings.
///
/// Kept as strings (normalised: no leading zeros in `int`, no trailing zeros
/// in `frac`) so that precision and magnitude are judged on the *value*
/// before anything is converted: "1.5000" t is exactly 1500 kg and is
/// accepted, while a 40-digit number is reported as too large instead of
/// failing inside a numeric type.
struct Digits<'a> {
    /// The trimmed input, for messages.
    text: &'a str,
    negative: bool,
    int: &'a str,
    frac: &'a str,
}

impl Digits<'_> {
    fn is_zero(&self) -> bool {
        self.int.is_empty() && self.frac.is_empty()
    }

    /// Rejects negative values. "-0" is zero, not negative: the check is on
    /// the value, consistent with how precision is judged.
    fn reject_negative(&self) -> Result<(), QuantityError> {
        if self.negative && !self.is_zero() {
            return Err(QuantityError::Negative(self.text.to_string()));
        }
        Ok(())
    }
}

/// Splits `s` into sign, integer digits and fraction digits.
///
/// Accepted grammar (after trimming surrounding whitespace):
/// `-? digits ( '.' digits? )?` or `-? '.' digits`. Everything else is
/// [`QuantityError::NotANumber`]; in particular `Decimal`'s and `f64`'s
/// broader syntaxes (exponents, "NaN", "inf", underscores) are refused.
fn split_digits(s: &str) -> Result<Digits<'_>, QuantityError> {
    let text = s.trim();
    if text.is_empty() {
        return Err(QuantityError::Empty);
    }
    let (negative, body) = match text.strip_prefix('-') {
        Some(rest) => (true, rest),
        None => (false, text),
    };
    let (int, frac) = body.split_once('.').unwrap_or((body, ""));
    let all_digits = |d: &str| d.bytes().all(|b| b.is_ascii_digit());
    if (int.is_empty() && frac.is_empty()) || !all_digits(int) || !all_digits(frac) {
        return Err(QuantityError::NotANumber(text.to_string()));
    }
    Ok(Digits {
        text,
        negative,
        int: int.trim_start_matches('0'),
        frac: frac.trim_end_matches('0'),
    })
}

/// Parses an integer digit string known to be short enough for `i64`.
fn small_int(digits: &str) -> Kg {
    // `digits` is ASCII digits only and at most 18 long at every call site,
    // so this cannot fail; the fallback keeps the function total anyway.
    digits.parse::<Kg>().unwrap_or(0)
}

/// Parses a quantity in tonnes into kilograms.
///
/// Accepts plain decimals such as "360", "360.5", "0.001", "1.5000".
/// Rejects empty input, anything that is not a plain decimal (including
/// exponent forms and NaN/inf words), negative values, values finer than
/// 1 kg (more than 3 significant decimals: rejected, not rounded) and values
/// above [`MAX_LINE_KG`]. Zero is accepted: "0 t of flour left the
/// checkpoint" is a real observation.
pub fn parse_tonnes(s: &str) -> Result<Kg, QuantityError> {
    let d = split_digits(s)?;
    d.reject_negative()?;
    let max_whole_tonnes = MAX_LINE_KG / KG_PER_TONNE;
    // Five digits of tonnes is the most a valid line can have; checking the
    // digit count first keeps the arithmetic below overflow-free.
    if d.int.len() > 5 {
        return Err(QuantityError::TooLarge(format!("{} t", d.text)));
    }
    if d.frac.len() > 3 {
        return Err(QuantityError::TooPreciseTonnes(d.text.to_string()));
    }
    let whole = small_int(d.int);
    let frac_kg = if d.frac.is_empty() {
        0
    } else {
        small_int(&format!("{:0<3}", d.frac))
    };
    let kg = whole * KG_PER_TONNE + frac_kg;
    if whole > max_whole_tonnes || kg > MAX_LINE_KG {
        return Err(QuantityError::TooLarge(format!("{} t", d.text)));
    }
    Ok(kg)
}

/// Parses a quantity in kilograms, which must be whole.
fn parse_kilograms(s: &str) -> Result<Kg, QuantityError> {
    let d = split_digits(s)?;
    d.reject_negative()?;
    if d.int.len() > 8 {
        return Err(QuantityError::TooLarge(format!("{} kg", d.text)));
    }
    if !d.frac.is_empty() {
        return Err(QuantityError::FractionalKilograms(d.text.to_string()));
    }
    let kg = small_int(d.int);
    if kg > MAX_LINE_KG {
        return Err(QuantityError::TooLarge(format!("{} kg", d.text)));
    }
    Ok(kg)
}

/// Converts a volume to kilograms with a density, insisting on an exact
/// whole-kilogram result.
fn litres_to_kg(s: &str, density: Option<Decimal>) -> Result<Kg, QuantityError> {
    let d = split_digits(s)?;
    d.reject_negative()?;
    let density = density.ok_or(QuantityError::DensityMissing)?.normalize();
    if density <= Decimal::ZERO {
        return Err(QuantityError::InvalidDensity(density));
    }
    let too_large = || QuantityError::TooLarge(format!("{} L at {density} kg/L", d.text));
    // Any density a real liquid has is far below 1000 kg/L, so more than 12
    // integer digits of litres is certainly over the cap; the bound also
    // keeps the value within `Decimal`'s 28 digits.
    if d.int.len() > 12 {
        return Err(too_large());
    }
    // `Decimal` multiplication silently rounds once a product needs more
    // than 28 digits, which could turn 1840.0000…01 kg into an "exact"
    // 1840 kg. Capping the combined decimals at 20 leaves 8 integer digits,
    // enough for every product up to the line cap, so below the cap the
    // product is always exact and the whole-kilogram test is trustworthy.
    if d.frac.len() as u32 + density.scale() > 20 {
        return Err(QuantityError::TooPreciseVolume {
            litres: d.text.to_string(),
            density,
        });
    }
    let int = if d.int.is_empty() { "0" } else { d.int };
    let normal = if d.frac.is_empty() {
        int.to_string()
    } else {
        format!("{int}.{}", d.frac)
    };
    // Only fails beyond 28 significant digits, i.e. both many integer and
    // many decimal digits: that is a precision problem, not a size one.
    let litres = Decimal::from_str_exact(&normal).map_err(|_| QuantityError::TooPreciseVolume {
        litres: d.text.to_string(),
        density,
    })?;
    let kg = litres.checked_mul(density).ok_or_else(too_large)?;
    if kg > Decimal::from(MAX_LINE_KG) {
        return Err(too_large());
    }
    if !kg.fract().is_zero() {
        return Err(QuantityError::NotWholeKilograms {
            litres: d.text.to_string(),
            density,
            kg: kg.normalize(),
        });
    }
    kg.to_i64().ok_or_else(too_large)
}

/// Converts an entered quantity in `unit` to whole kilograms.
///
/// * tonnes: as [`parse_tonnes`];
/// * kilograms: must be a whole number;
/// * litres: needs `density_kg_per_l` ([`QuantityError::DensityMissing`]
///   otherwise) and litres × density must be an exact whole number of
///   kilograms. A fractional result is an error rather than rounded, because
///   the ledger must reproduce what was reported; the message tells the user
///   to enter the weight instead.
///
/// The same negative and [`MAX_LINE_KG`] checks apply to every unit.
pub fn to_kg(
    quantity: &str,
    unit: Unit,
    density_kg_per_l: Option<Decimal>,
) -> Result<Kg, QuantityError> {
    match unit {
        Unit::Tonnes => parse_tonnes(quantity),
        Unit::Kilograms => parse_kilograms(quantity),
        Unit::Litres => litres_to_kg(quantity, density_kg_per_l),
    }
}

/// Formats kilograms as tonnes with exactly three decimals ("360.500").
///
/// A fixed number of decimals keeps columns aligned in reports and makes it
/// visible that the figure is exact to the kilogram.
pub fn format_tonnes(kg: Kg) -> String {
    let sign = if kg < 0 { "-" } else { "" };
    // `unsigned_abs` so that even `i64::MIN` formats instead of overflowing.
    let abs = kg.unsigned_abs();
    let per_tonne = KG_PER_TONNE.unsigned_abs();
    format!("{sign}{}.{:03}", abs / per_tonne, abs % per_tonne)
}

/// Tonnes for people: three decimals and a comma between thousands, `1234500` →
/// `1,234.500` (the pages show every tonne the API shows, grouped for reading).
pub fn format_tonnes_grouped(kg: Kg) -> String {
    let plain = format_tonnes(kg);
    let (sign, digits) = plain.split_at(usize::from(plain.starts_with('-')));
    let (whole, frac) = digits.split_once('.').unwrap_or((digits, "000"));
    let mut grouped = String::with_capacity(whole.len() + whole.len() / 3);
    for (i, ch) in whole.chars().enumerate() {
        if i > 0 && (whole.len() - i) % 3 == 0 {
            grouped.push(',');
        }
        grouped.push(ch);
    }
    format!("{sign}{grouped}.{frac}")
}

/// Kilograms as a tonnes `Decimal` with scale 3, for APIs and exports that
/// carry numbers rather than text; exact because the scale is fixed.
pub fn kg_to_decimal_tonnes(kg: Kg) -> Decimal {
    Decimal::new(kg, 3)
}

#[cfg(test)]
mod grouped_tests {
    use super::*;

    #[test]
    fn tonnes_for_people_group_thousands_and_keep_three_decimals() {
        let cases = [
            (0, "0.000"),
            (1, "0.001"),
            (360_000, "360.000"),
            (1_234_500, "1,234.500"),
            (999_999_999, "999,999.999"),
            (1_000_000_000, "1,000,000.000"),
            (-92_495, "-92.495"),
            (-1_234_567_890, "-1,234,567.890"),
        ];
        for (kg, shown) in cases {
            assert_eq!(format_tonnes_grouped(kg), shown, "{kg} kg");
        }
        assert!(format_tonnes_grouped(i64::MIN).starts_with("-9,223,372,036,854,775."));
    }

    proptest::proptest! {
        #[test]
        fn grouping_only_adds_commas(kg in proptest::num::i64::ANY) {
            proptest::prop_assert_eq!(format_tonnes_grouped(kg).replace(',', ""), format_tonnes(kg));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::str::FromStr;

    fn dec(s: &str) -> Decimal {
        Decimal::from_str(s).unwrap()
    }

    #[test]
    fn unit_parse_table() {
        let cases: &[(&str, Option<Unit>)] = &[
            ("t", Some(Unit::Tonnes)),
            ("kg", Some(Unit::Kilograms)),
            ("L", Some(Unit::Litres)),
            ("l", Some(Unit::Litres)),
            ("T", None),
            ("KG", None),
            ("ton", None),
            ("lb", None),
            ("", None),
            (" t", None),
        ];
        for (input, want) in cases {
            assert_eq!(Unit::parse(input), *want, "input {input:?}");
        }
        for unit in [Unit::Tonnes, Unit::Kilograms, Unit::Litres] {
            assert_eq!(Unit::parse(unit.symbol()), Some(unit));
            assert_eq!(unit.to_string(), unit.symbol());
        }
    }

    #[test]
    fn parse_tonnes_accepts_table() {
        let cases: &[(&str, Kg)] = &[
            ("360", 360_000),
            ("360.5", 360_500),
            ("0.001", 1),
            ("0", 0),
            ("0.000", 0),
            ("-0", 0),
            ("1.5000", 1_500),
            ("1.500000000000000000000000000000000", 1_500),
            ("000360", 360_000),
            (".5", 500),
            ("5.", 5_000),
            (" 12.25 ", 12_250),
            ("10000", MAX_LINE_KG),
            ("10000.000", MAX_LINE_KG),
            ("9999.999", MAX_LINE_KG - 1),
        ];
        for (input, want) in cases {
            assert_eq!(parse_tonnes(input), Ok(*want), "input {input:?}");
        }
    }

    #[test]
    fn parse_tonnes_rejects_table() {
        use QuantityError as E;
        let cases: Vec<(&str, QuantityError)> = vec![
            ("", E::Empty),
            ("   ", E::Empty),
            ("abc", E::NotANumber("abc".into())),
            ("NaN", E::NotANumber("NaN".into())),
            ("nan", E::NotANumber("nan".into())),
            ("inf", E::NotANumber("inf".into())),
            ("-inf", E::NotANumber("-inf".into())),
            ("Infinity", E::NotANumber("Infinity".into())),
            ("1e3", E::NotANumber("1e3".into())),
            ("1E3", E::NotANumber("1E3".into())),
            ("1.5e-3", E::NotANumber("1.5e-3".into())),
            ("+5", E::NotANumber("+5".into())),
            ("1,5", E::NotANumber("1,5".into())),
            ("1 000", E::NotANumber("1 000".into())),
            ("1_000", E::NotANumber("1_000".into())),
            (".", E::NotANumber(".".into())),
            ("-", E::NotANumber("-".into())),
            ("1.2.3", E::NotANumber("1.2.3".into())),
            ("--1", E::NotANumber("--1".into())),
            ("360t", E::NotANumber("360t".into())),
            ("-1", E::Negative("-1".into())),
            ("-0.001", E::Negative("-0.001".into())),
            ("0.0005", E::TooPreciseTonnes("0.0005".into())),
            ("1.2345", E::TooPreciseTonnes("1.2345".into())),
            ("1.00010", E::TooPreciseTonnes("1.00010".into())),
            ("10000.001", E::TooLarge("10000.001 t".into())),
            ("10001", E::TooLarge("10001 t".into())),
            ("99999", E::TooLarge("99999 t".into())),
            ("100000", E::TooLarge("100000 t".into())),
            (
                "1000000000000000000000000000000000000000",
                E::TooLarge("1000000000000000000000000000000000000000 t".into()),
            ),
        ];
        for (input, want) in cases {
            assert_eq!(parse_tonnes(input), Err(want), "input {input:?}");
        }
    }

    #[test]
    fn error_messages_say_what_to_do() {
        let cases: Vec<(Result<Kg, QuantityError>, &str)> = vec![
            (
                parse_tonnes(""),
                "quantity is empty; enter a number such as 360 or 360.5",
            ),
            (
                parse_tonnes("abc"),
                "quantity is not a number: 'abc'; enter digits with an optional decimal point, such as 360.5",
            ),
            (
                parse_tonnes("-2"),
                "quantity must not be negative: '-2'; enter the amount that was observed",
            ),
            (
                parse_tonnes("0.0005"),
                "quantity has more precision than 1 kg (0.0005 t); give at most 3 decimals in tonnes",
            ),
            (
                parse_tonnes("12000"),
                "quantity must be at most 10000 t on one line (12000 t); check the unit, or split the cargo over several lines",
            ),
            (
                to_kg("12.5", Unit::Kilograms, None),
                "quantity has more precision than 1 kg (12.5 kg); give whole kilograms",
            ),
            (
                to_kg("2001", Unit::Litres, Some(dec("0.92"))),
                "2001 L at 0.92 kg/L is 1840.92 kg; aidflow stores whole kilograms: enter the weight in kg or t instead",
            ),
            (
                to_kg("2000", Unit::Litres, None),
                "a quantity in litres needs the commodity's density in kg/L; record the density or enter the weight in kg or t instead",
            ),
            (
                to_kg("2000", Unit::Litres, Some(dec("0"))),
                "density must be greater than 0 kg/L (got 0 kg/L); correct the commodity's density",
            ),
        ];
        for (got, want) in cases {
            assert_eq!(got.unwrap_err().to_string(), want);
        }
    }

    #[test]
    fn to_kg_accepts_table() {
        let cases: Vec<(&str, Unit, Option<Decimal>, Kg)> = vec![
            ("360", Unit::Tonnes, None, 360_000),
            ("0.001", Unit::Tonnes, Some(dec("0.92")), 1),
            ("1840", Unit::Kilograms, None, 1_840),
            ("1840.000", Unit::Kilograms, None, 1_840),
            ("0", Unit::Kilograms, None, 0),
            ("10000000", Unit::Kilograms, None, MAX_LINE_KG),
            ("2000", Unit::Litres, Some(dec("0.92")), 1_840),
            ("2000", Unit::Litres, Some(dec("0.920")), 1_840),
            ("0", Unit::Litres, Some(dec("0.92")), 0),
            ("2500.5", Unit::Litres, Some(dec("2")), 5_001),
            ("1000", Unit::Litres, Some(dec("1")), 1_000),
            ("10000000", Unit::Litres, Some(dec("1")), MAX_LINE_KG),
        ];
        for (q, unit, density, want) in cases {
            assert_eq!(to_kg(q, unit, density), Ok(want), "{q} {unit} {density:?}");
        }
    }

    #[test]
    fn to_kg_rejects_table() {
        use QuantityError as E;
        let cases: Vec<(&str, Unit, Option<Decimal>, QuantityError)> = vec![
            ("", Unit::Kilograms, None, E::Empty),
            ("x", Unit::Kilograms, None, E::NotANumber("x".into())),
            ("1e3", Unit::Kilograms, None, E::NotANumber("1e3".into())),
            ("-5", Unit::Kilograms, None, E::Negative("-5".into())),
            (
                "12.5",
                Unit::Kilograms,
                None,
                E::FractionalKilograms("12.5".into()),
            ),
            (
                "10000001",
                Unit::Kilograms,
                None,
                E::TooLarge("10000001 kg".into()),
            ),
            (
                "123456789012",
                Unit::Kilograms,
                None,
                E::TooLarge("123456789012 kg".into()),
            ),
            (
                "0.0005",
                Unit::Tonnes,
                None,
                E::TooPreciseTonnes("0.0005".into()),
            ),
            ("2000", Unit::Litres, None, E::DensityMissing),
            ("abc", Unit::Litres, None, E::NotANumber("abc".into())),
            (
                "-1",
                Unit::Litres,
                Some(dec("0.92")),
                E::Negative("-1".into()),
            ),
            (
                "2000",
                Unit::Litres,
                Some(dec("-0.9")),
                E::InvalidDensity(dec("-0.9")),
            ),
            (
                "2001",
                Unit::Litres,
                Some(dec("0.92")),
                E::NotWholeKilograms {
                    litres: "2001".into(),
                    density: dec("0.92"),
                    kg: dec("1840.92"),
                },
            ),
            (
                "0.000000000000000000001",
                Unit::Litres,
                Some(dec("1")),
                E::TooPreciseVolume {
                    litres: "0.000000000000000000001".into(),
                    density: dec("1"),
                },
            ),
            (
                "1.0000000000001",
                Unit::Litres,
                Some(dec("0.12345678")),
                E::TooPreciseVolume {
                    litres: "1.0000000000001".into(),
                    density: dec("0.12345678"),
                },
            ),
            (
                "1.0000000000001",
                Unit::Litres,
                Some(dec("1")),
                E::NotWholeKilograms {
                    litres: "1.0000000000001".into(),
                    density: dec("1"),
                    kg: dec("1.0000000000001"),
                },
            ),
            (
                "10000001",
                Unit::Litres,
                Some(dec("1")),
                E::TooLarge("10000001 L at 1 kg/L".into()),
            ),
            (
                "9000000000000",
                Unit::Litres,
                Some(dec("0.92")),
                E::TooLarge("9000000000000 L at 0.92 kg/L".into()),
            ),
        ];
        for (q, unit, density, want) in cases {
            assert_eq!(to_kg(q, unit, density), Err(want), "{q} {unit} {density:?}");
        }
    }

    #[test]
    fn format_tonnes_table() {
        let cases: &[(Kg, &str)] = &[
            (360_500, "360.500"),
            (360_000, "360.000"),
            (0, "0.000"),
            (1, "0.001"),
            (-1, "-0.001"),
            (-1_500, "-1.500"),
            (MAX_LINE_KG, "10000.000"),
            (i64::MIN, "-9223372036854775.808"),
        ];
        for (kg, want) in cases {
            assert_eq!(format_tonnes(*kg), *want, "kg {kg}");
        }
    }

    #[test]
    fn kg_to_decimal_tonnes_table() {
        let cases: &[(Kg, &str)] = &[
            (360_500, "360.500"),
            (0, "0.000"),
            (1, "0.001"),
            (-1_500, "-1.500"),
        ];
        for (kg, want) in cases {
            let got = kg_to_decimal_tonnes(*kg);
            assert_eq!(got.scale(), 3);
            assert_eq!(got.to_string(), *want);
        }
    }

    #[test]
    fn format_then_parse_round_trips() {
        for kg in [0, 1, 999, 1_000, 1_840, 360_500, MAX_LINE_KG] {
            assert_eq!(parse_tonnes(&format_tonnes(kg)), Ok(kg));
        }
    }
}
