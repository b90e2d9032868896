//! Claims against the ledger: when the figures that sources published about a convoy
//! disagree with each other, or with the figure the ledger logged, by more than a share.
//!
//! The comparison is exact, in integer kilograms: a convoy is disputed when
//! `(highest − lowest) / lowest > threshold` over every figure compared (the logged one
//! and each claim). The spread shown to people is that ratio as a percentage with one
//! decimal: 360, 400 and 361 t are (400 − 360) / 360 = 11.1 % apart. Claims never change
//! the ledger; this only reads figures.

use rust_decimal::{Decimal, RoundingStrategy};

use crate::domain::ledger::Status;
use crate::domain::quantity::Kg;

/// A share in hundredths of a percent (basis points): 2 % is 200.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub struct Share(u32);

/// The largest share a threshold may be: 1000 %.
const MAX_BASIS_POINTS: u32 = 100_000;

impl Share {
    /// The default threshold, 2 %.
    pub const DEFAULT: Share = Share(200);

    pub fn from_basis_points(bp: u32) -> Share {
        Share(bp.min(MAX_BASIS_POINTS))
    }

    pub fn basis_points(self) -> u32 {
        self.0
    }

    /// A percentage as written in the settings (`2`, `2.5`, `0.25`): from 0 to 1000, with
    /// at most two decimals, parsed exactly.
    pub fn parse_percent(s: &str) -> Result<Share, String> {
        let refuse = || {
            format!(
                "{s:?} is not a percentage from 0 to 1000 with at most two decimals, like 2 or 2.5"
            )
        };
        let d = Decimal::from_str_exact(s.trim()).map_err(|_| refuse())?;
        let bp = d * Decimal::from(100);
        if d.is_sign_negative()
            || bp.fract() != Decimal::ZERO
            || bp > Decimal::from(MAX_BASIS_POINTS)
        {
            return Err(refuse());
        }
        let bp: u32 = bp.trunc().try_into().map_err(|_| refuse())?;
        Ok(Share(bp))
    }

    /// The share as a percentage, without trailing zeros (`2`, `2.5`).
    pub fn percent(self) -> Decimal {
        (Decimal::from(self.0) / Decimal::from(100)).normalize()
    }
}

/// Which figure of the ledger the claims are compared to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Basis {
    /// The manifest: the convoy has not departed (or was cancelled before it did).
    Planned,
    /// What was loaded at departure: once a convoy has set off, that is what sources
    /// report about it.
    Loaded,
}

impl Basis {
    pub fn as_str(self) -> &'static str {
        match self {
            Basis::Planned => "planned",
            Basis::Loaded => "loaded",
        }
    }
}

/// The logged figure a convoy's claims are compared to: loaded once it has departed,
/// planned before that (and for a convoy cancelled before departure).
pub fn logged_figure(status: Status, planned: Kg, loaded: Kg) -> (Basis, Kg) {
    match status {
        Status::Planned | Status::Cancelled => (Basis::Planned, planned),
        _ => (Basis::Loaded, loaded),
    }
}

/// How far apart the figures compared are.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Discrepancy {
    pub lowest: Kg,
    pub highest: Kg,
    /// `(highest − lowest) / lowest` as a percentage, rounded to one decimal (half away
    /// from zero); `None` when the lowest figure is 0 and the highest is not.
    pub spread_percent: Option<Decimal>,
    /// The exact spread is more than the threshold.
    pub disputed: bool,
}

/// Compares the logged figure with the claims. `None` when there is no claim: a convoy
/// nobody reported on is not in dispute. Negative figures are not kilograms aidflow
/// keeps; they count as 0.
pub fn discrepancy(logged: Kg, claims: &[Kg], threshold: Share) -> Option<Discrepancy> {
    if claims.is_empty() {
        return None;
    }
    let figures = || {
        std::iter::once(logged)
            .chain(claims.iter().copied())
            .map(|k| k.max(0))
    };
    let lowest = figures().min().unwrap_or(0);
    let highest = figures().max().unwrap_or(0);
    let gap = i128::from(highest - lowest);
    let disputed = gap * 10_000 > i128::from(threshold.0) * i128::from(lowest);
    let spread_percent = (lowest > 0).then(|| {
        (Decimal::from(highest - lowest) * Decimal::from(100) / Decimal::from(lowest))
            .round_dp_with_strategy(1, RoundingStrategy::MidpointAwayFromZero)
    });
    Some(Discrepancy {
        lowest,
        highest,
        spread_percent: if gap == 0 {
            Some(Decimal::ZERO)
        } else {
            spread_percent
        },
        disputed,
    })
}

/// A spread as the answers write it: one decimal (`"11.1"`).
pub fn format_percent(p: Decimal) -> String {
    format!(
        "{:.1}",
        p.round_dp_with_strategy(1, RoundingStrategy::MidpointAwayFromZero)
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    const T: Kg = 1_000;

    /// (logged, claims, threshold bp, lowest, highest, spread, disputed)
    type Case = (Kg, &'static [Kg], u32, Kg, Kg, Option<&'static str>, bool);

    #[test]
    fn discrepancies_table() {
        let cases: &[Case] = &[
            // The Armenian government convoy of 26 July 2023: 360, 400 and 361 t.
            (
                360 * T,
                &[360 * T, 400 * T, 361 * T],
                200,
                360 * T,
                400 * T,
                Some("11.1"),
                true,
            ),
            // The claims alone disagree, even where one matches the ledger.
            (
                400 * T,
                &[400 * T, 360 * T],
                200,
                360 * T,
                400 * T,
                Some("11.1"),
                true,
            ),
            // All agree.
            (
                360 * T,
                &[360 * T, 360 * T],
                200,
                360 * T,
                360 * T,
                Some("0.0"),
                false,
            ),
            // Exactly at the threshold is not more than it.
            (
                100 * T,
                &[102 * T],
                200,
                100 * T,
                102 * T,
                Some("2.0"),
                false,
            ),
            (
                100 * T,
                &[102 * T + 1],
                200,
                100 * T,
                102 * T + 1,
                Some("2.0"),
                true,
            ),
            // Within 2 %: 360 and 361 t are 0.3 % apart.
            (
                360 * T,
                &[361 * T],
                200,
                360 * T,
                361 * T,
                Some("0.3"),
                false,
            ),
            // A zero threshold flags any difference, even 1 kg.
            (
                360 * T,
                &[360 * T + 1],
                0,
                360 * T,
                360 * T + 1,
                Some("0.0"),
                true,
            ),
            // Nothing logged yet (lowest 0): any claimed tonnes are a dispute, spread undefined.
            (0, &[20 * T], 200, 0, 20 * T, None, true),
            (0, &[0], 200, 0, 0, Some("0.0"), false),
            // A claim of 0 t against a loaded convoy.
            (23 * T, &[0], 200, 0, 23 * T, None, true),
            // A wide threshold tolerates the Lachin figures.
            (
                360 * T,
                &[400 * T],
                1200,
                360 * T,
                400 * T,
                Some("11.1"),
                false,
            ),
            // Half away from zero: 1/8 = 12.5 %, 1/16 = 6.25 % → 6.3.
            (800, &[900], 200, 800, 900, Some("12.5"), true),
            (1600, &[1700], 200, 1600, 1700, Some("6.3"), true),
        ];
        for (logged, claims, bp, lowest, highest, spread, disputed) in cases {
            let d = discrepancy(*logged, claims, Share::from_basis_points(*bp))
                .expect("claims give a discrepancy");
            let case = format!("{logged} {claims:?} at {bp} bp");
            assert_eq!((d.lowest, d.highest), (*lowest, *highest), "{case}");
            assert_eq!(
                d.spread_percent.map(format_percent).as_deref(),
                *spread,
                "{case}"
            );
            assert_eq!(d.disputed, *disputed, "{case}");
        }
    }

    #[test]
    fn no_claim_no_dispute() {
        assert_eq!(discrepancy(360 * T, &[], Share::DEFAULT), None);
    }

    #[test]
    fn the_logged_figure_is_loaded_once_departed() {
        for (status, basis, kg) in [
            (Status::Planned, Basis::Planned, 360),
            (Status::Cancelled, Basis::Planned, 360),
            (Status::InTransit, Basis::Loaded, 350),
            (Status::Held, Basis::Loaded, 350),
            (Status::Delivered, Basis::Loaded, 350),
            (Status::ShortDelivered, Basis::Loaded, 350),
            (Status::TurnedBack, Basis::Loaded, 350),
        ] {
            assert_eq!(logged_figure(status, 360, 350), (basis, kg), "{status:?}");
        }
    }

    #[test]
    fn thresholds_parse_exactly() {
        for (text, bp) in [
            ("2", 200),
            ("2.5", 250),
            ("0.25", 25),
            ("0", 0),
            (" 10 ", 1000),
            ("1000", 100_000),
        ] {
            assert_eq!(
                Share::parse_percent(text).map(Share::basis_points),
                Ok(bp),
                "{text}"
            );
        }
        for bad in ["", "-1", "2.005", "1000.01", "two", "1e2", "NaN"] {
            assert!(Share::parse_percent(bad).is_err(), "{bad}");
        }
        assert_eq!(Share::DEFAULT.percent().to_string(), "2");
        assert_eq!(Share::from_basis_points(250).percent().to_string(), "2.5");
    }

    fn arb_kg() -> impl Strategy<Value = Kg> {
        prop_oneof![0..=10_000_000i64, (0..=10_000i64).prop_map(|t| t * 1_000)]
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(512))]

        #[test]
        fn the_order_of_claims_does_not_matter(logged in arb_kg(), mut claims in prop::collection::vec(arb_kg(), 1..8), bp in 0u32..5_000) {
            let share = Share::from_basis_points(bp);
            let before = discrepancy(logged, &claims, share);
            claims.reverse();
            prop_assert_eq!(discrepancy(logged, &claims, share), before);
        }

        #[test]
        fn disputed_exactly_when_the_gap_exceeds_the_share(logged in arb_kg(), claims in prop::collection::vec(arb_kg(), 1..8), bp in 0u32..5_000) {
            let d = discrepancy(logged, &claims, Share::from_basis_points(bp)).unwrap();
            let all: Vec<Kg> = std::iter::once(logged).chain(claims.iter().copied()).collect();
            prop_assert_eq!(d.lowest, *all.iter().min().unwrap());
            prop_assert_eq!(d.highest, *all.iter().max().unwrap());
            // The same rule in rational arithmetic: gap / lowest > bp / 10000.
            let gap = Decimal::from(d.highest - d.lowest);
            let expected = if d.lowest == 0 { gap > Decimal::ZERO } else {
                gap / Decimal::from(d.lowest) > Decimal::from(bp) / Decimal::from(10_000)
            };
            prop_assert_eq!(d.disputed, expected);
            if d.highest == d.lowest { prop_assert!(!d.disputed); }
        }

        #[test]
        fn another_claim_never_narrows_the_spread(logged in arb_kg(), claims in prop::collection::vec(arb_kg(), 1..6), extra in arb_kg(), bp in 0u32..5_000) {
            let share = Share::from_basis_points(bp);
            let before = discrepancy(logged, &claims, share).unwrap();
            let mut more = claims;
            more.push(extra);
            let after = discrepancy(logged, &more, share).unwrap();
            prop_assert!(after.highest - after.lowest >= before.highest - before.lowest);
            prop_assert!(after.disputed || !before.disputed);
        }

        #[test]
        fn the_unit_does_not_matter(logged in 0..=10_000i64, claims in prop::collection::vec(0..=10_000i64, 1..6), bp in 0u32..5_000) {
            // The same figures in tonnes and in kilograms are as far apart.
            let share = Share::from_basis_points(bp);
            let tonnes = discrepancy(logged, &claims, share).unwrap();
            let kg: Vec<Kg> = claims.iter().map(|c| c * 1_000).collect();
            let in_kg = discrepancy(logged * 1_000, &kg, share).unwrap();
            prop_assert_eq!((tonnes.disputed, tonnes.spread_percent), (in_kg.disputed, in_kg.spread_percent));
        }
    }
}
