//! Reference data loaded into an empty database on first start: the Lachin corridor by
//! default, or the file named by the `seed.file` setting.

use anyhow::{anyhow, Context};
use diesel::prelude::*;
use serde::Deserialize;

use crate::app::reference::{checkpoints, commodities, organizations, routes};
use crate::config::SeedSettings;
use crate::db::schema;
use crate::db::DbConn;
use crate::store::reference;

const LACHIN_SEED: &str = include_str!("../../config/seed-lachin.toml");

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Seed {
    #[serde(default)]
    pub organizations: Vec<organizations::NewOrganization>,
    #[serde(default)]
    pub checkpoints: Vec<checkpoints::NewCheckpoint>,
    #[serde(default)]
    pub commodities: Vec<commodities::NewCommodity>,
    #[serde(default)]
    pub routes: Vec<routes::NewRoute>,
}

impl Seed {
    /// Reads the configured seed, or the built-in one.
    pub fn load(settings: &SeedSettings) -> anyhow::Result<Seed> {
        let (text, origin) = if settings.file.trim().is_empty() {
            (
                LACHIN_SEED.to_string(),
                "the built-in Lachin seed".to_string(),
            )
        } else {
            let text = std::fs::read_to_string(&settings.file).with_context(|| {
                format!(
                    "cannot read the seed file {} (setting seed.file)",
                    settings.file
                )
            })?;
            (text, settings.file.clone())
        };
        toml::from_str(&text)
            .map_err(|e| anyhow!("the seed in {origin} is invalid (setting seed.file): {e}"))
    }
}

/// Names the seed record that failed.
fn fail<'a, E: std::fmt::Display>(what: &'a str, key: &'a str) -> impl Fn(E) -> anyhow::Error + 'a {
    move |e| anyhow!("seed {what} {key}: {e}")
}

/// Whether the database holds no reference data at all.
fn is_empty(conn: &mut DbConn) -> anyhow::Result<bool> {
    let counts: [i64; 4] = [
        schema::organizations::table.count().get_result(conn)?,
        schema::checkpoints::table.count().get_result(conn)?,
        schema::commodities::table.count().get_result(conn)?,
        schema::routes::table.count().get_result(conn)?,
    ];
    Ok(counts.iter().all(|c| *c == 0))
}

/// Loads the seed if the database is empty; returns whether it did. Every record passes
/// the same validation as the admin API.
#[tracing::instrument(skip_all)]
pub fn apply_if_empty(conn: &mut DbConn, settings: &SeedSettings) -> anyhow::Result<bool> {
    if !settings.enabled || !is_empty(conn)? {
        return Ok(false);
    }
    let seed = Seed::load(settings)?;
    // Validate everything before writing anything, so a bad seed file leaves the
    // database empty (and the next start tries again) rather than half-seeded.
    let orgs = seed
        .organizations
        .iter()
        .map(|o| organizations::build(o).map_err(fail("organization", &o.slug)))
        .collect::<Result<Vec<_>, _>>()?;
    let cps = seed
        .checkpoints
        .iter()
        .map(|c| checkpoints::build(c).map_err(fail("checkpoint", &c.code)))
        .collect::<Result<Vec<_>, _>>()?;
    let cos = seed
        .commodities
        .iter()
        .map(|c| commodities::build(c).map_err(fail("commodity", &c.code)))
        .collect::<Result<Vec<_>, _>>()?;
    let rts = seed
        .routes
        .iter()
        .map(|r| routes::build(r).map_err(fail("route", &r.code)))
        .collect::<Result<Vec<_>, _>>()?;
    for (route, (_, stops)) in seed.routes.iter().zip(&rts) {
        if let Some(missing) = stops
            .iter()
            .find(|s| !seed.checkpoints.iter().any(|c| c.code == s.checkpoint))
        {
            return Err(anyhow!(
                "seed route {}: checkpoint {} is not in the seed's checkpoints",
                route.code,
                missing.checkpoint
            ));
        }
    }
    for record in orgs {
        let key = record.slug.clone();
        reference::create_organization(conn, record).map_err(fail("organization", &key))?;
    }
    for record in cps {
        let key = record.code.clone();
        reference::create_checkpoint(conn, record).map_err(fail("checkpoint", &key))?;
    }
    for record in cos {
        let key = record.code.clone();
        reference::create_commodity(conn, record).map_err(fail("commodity", &key))?;
    }
    for (row, stops) in rts {
        let key = row.code.clone();
        reference::create_route(conn, row, stops).map_err(fail("route", &key))?;
    }
    tracing::info!(
        organizations = seed.organizations.len(),
        checkpoints = seed.checkpoints.len(),
        commodities = seed.commodities.len(),
        routes = seed.routes.len(),
        "seeded reference data"
    );
    Ok(true)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn builtin_seed_parses_and_validates() {
        let seed = Seed::load(&SeedSettings {
            enabled: true,
            file: String::new(),
        })
        .unwrap();
        assert_eq!(seed.routes.len(), 2);
        for c in &seed.checkpoints {
            checkpoints::build(c).unwrap();
        }
        for c in &seed.commodities {
            commodities::build(c).unwrap();
        }
        for r in &seed.routes {
            routes::build(r).unwrap();
        }
        let lachin: Vec<&str> = seed.routes[0]
            .checkpoints
            .iter()
            .map(|s| s.checkpoint.as_str())
            .collect();
        assert_eq!(
            lachin,
            ["GORIS", "KORNIDZOR", "HAKARI", "SHUSHA", "STEPANAKERT"]
        );
    }
}
