//! Claims: what sources published about a convoy — tonnes, trucks, a link, a quote —
//! recorded beside the ledger (idempotent under a client id) and compared with it.
//! Claims never change the ledger's figures.

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::app::auth::Principal;
use crate::app::error::AppError;
use crate::app::input::DecimalText;
use crate::app::validate::Checker;
use crate::db::{from_micros, now_micros, DbConn};
use crate::domain::claims::Share;
use crate::domain::quantity;
use crate::domain::week::IsoWeek;
use crate::store::claims::{self as store, ClaimRow};
use crate::store::convoys::{find_convoy, get_convoy, ConvoyRow};
use crate::store::{body_hash, replay_conflict, resolve_id, rollups, Created};
use crate::views::claims::{claim_out, convoy_claims, Claim, ConvoyClaims};

/// Longest source name, URL and quote a claim keeps.
pub const MAX_SOURCE: usize = 200;
pub const MAX_URL: usize = 2000;
pub const MAX_QUOTE: usize = 2000;

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewClaim {
    /// Optional client-chosen UUID; sending the same request again returns the stored claim.
    #[serde(default, skip_serializing)]
    pub id: Option<uuid::Uuid>,
    /// Who published the figure, 1–200 characters.
    #[schema(example = "ArmRadio", min_length = 1, max_length = 200)]
    pub source: String,
    /// Where it was published: an http:// or https:// URL of at most 2000 characters, or
    /// null when there is no link.
    #[serde(default)]
    #[schema(
        example = "https://example.org/news/2023-07-26",
        max_length = 2000,
        pattern = "^https?://[^\\s]+$"
    )]
    pub url: Option<String>,
    /// When it was published, RFC 3339 with offset; at most a day after the server's
    /// clock (else 422).
    #[schema(
        example = "2023-07-26T12:00:00+04:00",
        pattern = "^(199[0-9]|20[0-9]{2})-(0[1-9]|1[0-2])-(0[1-9]|1[0-9]|2[0-8])T([01][0-9]|2[0-3]):[0-5][0-9]:[0-5][0-9](\\.[0-9]{1,6})?(Z|[+-](0[0-9]|1[0-3]):[0-5][0-9])$"
    )]
    pub published_at: String,
    /// The tonnes the source gave, a decimal string with up to 3 decimals, from 0 to 10,000.
    #[schema(value_type = String, example = "400", pattern = "^([0-9]{1,4}(\\.[0-9]{1,3})?|10000(\\.0{1,3})?)$")]
    pub tonnes: DecimalText,
    /// The trucks the source gave, 0–1000.
    #[serde(default)]
    #[schema(example = 19, minimum = 0, maximum = 1000)]
    pub trucks: Option<i32>,
    /// The words of the source, at most 2000 characters.
    #[serde(default)]
    #[schema(
        max_length = 2000,
        pattern = "^[^\\u0000-\\u0008\\u000B\\u000C\\u000E-\\u001F\\u007F-\\u009F]*$"
    )]
    pub quote: Option<String>,
}

/// Checks a claim's fields, every one of them, into the row to store.
fn build(
    who: &Principal,
    convoy: &ConvoyRow,
    body: &NewClaim,
    id: String,
) -> Result<ClaimRow, AppError> {
    let mut check = Checker::new();
    let source = body.source.trim();
    if source.is_empty() || source.chars().count() > MAX_SOURCE {
        check.push(
            "source",
            format!("must be 1–{MAX_SOURCE} characters: who published the figure"),
        );
    }
    // Checked as sent: an empty or padded address is refused, not quietly dropped or
    // trimmed (null, or no `url`, is the way to say there is none).
    let url = body.url.as_deref();
    if let Some(u) = url {
        let parsed = reqwest::Url::parse(u).ok();
        let ok = (u.starts_with("http://") || u.starts_with("https://"))
            && u.chars().count() <= MAX_URL
            && !u.chars().any(char::is_whitespace)
            && parsed.is_some_and(|p| p.host_str().is_some_and(|h| !h.is_empty()));
        if !ok {
            check.push(
                "url",
                format!("give an http:// or https:// URL of at most {MAX_URL} characters, or null"),
            );
        }
    }
    let published = check.take(
        "published_at",
        crate::domain::time::parse_time(&body.published_at),
    );
    if let Some((at, _)) = published {
        if at > now_micros() + 86_400_000_000 {
            check.push(
                "published_at",
                "is more than a day in the future; give when the source published the figure",
            );
        }
    }
    let kg = check.take(
        "tonnes",
        quantity::parse_tonnes(&body.tonnes.0).map_err(|e| e.to_string()),
    );
    if let Some(n) = body.trucks {
        if !(0..=1000).contains(&n) {
            check.push("trucks", "must be between 0 and 1000");
        }
    }
    let quote = body
        .quote
        .as_deref()
        .map(str::trim)
        .filter(|q| !q.is_empty());
    if quote.is_some_and(|q| q.chars().count() > MAX_QUOTE) {
        check.push("quote", format!("must be at most {MAX_QUOTE} characters"));
    }
    check.finish()?;
    let (Some((published_at, published_offset)), Some(kg)) = (published, kg) else {
        return Err(AppError::field("body", "invalid claim"));
    };
    Ok(ClaimRow {
        id,
        convoy_id: convoy.id.clone(),
        source: source.to_string(),
        url: url.map(str::to_string),
        published_at,
        published_offset,
        kg,
        quantity: body.tonnes.0.trim().to_string(),
        unit: "t".to_string(),
        trucks: body.trucks,
        quote: quote.map(str::to_string),
        body_sha256: body_hash(body),
        created_by: who.token_id.clone(),
        created_at: now_micros(),
    })
}

/// Records a claim about the convoy `convoy_id`, written by whoever may write the convoy:
/// a viewer is refused, an editor only for its own organization's convoys, an admin for
/// any. Who may write comes before the body is looked at; a stored id is answered from
/// the stored claim (200), or 409 if the body or the convoy differs. A published week
/// whose report lists the convoy is marked for a new revision.
#[tracing::instrument(skip_all, fields(convoy = %convoy_id, claim = ?body.id))]
pub fn create(
    c: &mut DbConn,
    who: &Principal,
    convoy_id: &str,
    body: &NewClaim,
) -> Result<Created<Claim>, AppError> {
    who.require_writer()?;
    let convoy = find_convoy(c, convoy_id)?
        .ok_or_else(|| AppError::NotFound(format!("convoy {convoy_id} does not exist")))?;
    who.require_write_for(
        &convoy.organization_id,
        &format!("convoy {} of another organization", convoy.reference),
    )?;
    let id = resolve_id(body.id);
    // A replay is answered before validation that could have changed since.
    let created = match store::find_claim(c, &id)? {
        Some(stored) if stored.convoy_id == convoy.id && stored.body_sha256 == body_hash(body) => {
            Created::Replayed(stored)
        }
        Some(_) => return Err(replay_conflict("claim", &id).into()),
        None => {
            let row = build(who, &convoy, body, id)?;
            // The week is cut in the rollups' zone, as the published reports were.
            let week = rollups::stored_timezone(c)?
                .and_then(|tz| tz.parse::<chrono_tz::Tz>().ok())
                .map(|tz| IsoWeek::containing(from_micros(convoy.expected_arrival), tz).key());
            store::create_claim(c, row, |c| match &week {
                Some(w) => rollups::mark_published_dirty(c, &[w.as_str()]),
                None => Ok(()),
            })?
        }
    };
    let names = crate::store::tokens::names(c)?;
    Ok(created.map(|r| claim_out(&r, &names)))
}

/// A convoy's claims beside its logged figure, with their spread and flag.
#[tracing::instrument(skip(c))]
pub fn list(c: &mut DbConn, convoy_id: &str, share: Share) -> Result<ConvoyClaims, AppError> {
    let convoy = get_convoy(c, convoy_id)?;
    of_convoy(c, &convoy, share)
}

/// The claims of a convoy already read.
pub fn of_convoy(
    c: &mut DbConn,
    convoy: &ConvoyRow,
    share: Share,
) -> Result<ConvoyClaims, AppError> {
    let rows = store::claims_of(c, std::slice::from_ref(&convoy.id))?;
    let names = crate::store::tokens::names(c)?;
    Ok(convoy_claims(convoy, &rows, &names, share))
}
