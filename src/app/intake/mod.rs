//! Form intakes: KoboToolbox REST services and ODK Collect phones writing checkpoint
//! events for one organization, each submission through the same event write path as
//! `POST /api/v1/sync`, and every submission kept in the intake log.

pub mod admin;
pub mod mapping;
pub mod receive;

/// The shipped checkpoint form as an XForm (generated from forms/aidflow-checkpoint.xlsx
/// by pyxform; scripts/check_forms.sh keeps the two the same), for ODK Collect.
pub const XFORM: &str = include_str!("../../../forms/aidflow-checkpoint.xml");
/// Its form id and version, as in the XForm.
pub const XFORM_ID: &str = "aidflow_checkpoint";
pub const XFORM_VERSION: &str = "2026120101";
pub const XFORM_TITLE: &str = "aidflow checkpoint log";
