//! From a form submission to an aidflow event. Both channels are read into one shape
//! first — a flat JSON object keyed by each field's path (`convoy_reference`,
//! `meta/instanceID`), repeat groups as arrays of such objects with full-path keys
//! (`cargo` → `[{"cargo/commodity": …}]`) — which is how KoboToolbox's REST services
//! send submissions, and what [`flatten_instance`] makes of an ODK instance XML. A
//! mapping then names, for each aidflow field, the form's field path.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};
use utoipa::ToSchema;

use crate::domain::FieldError;

/// Which form field holds each aidflow field: the form's field paths. Every field has
/// the shipped form's name as its default (forms/aidflow-checkpoint.xlsx), so that form
/// needs no mapping; another form names its own.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(default, deny_unknown_fields)]
pub struct Mapping {
    #[schema(
        example = "convoy_reference",
        min_length = 1,
        max_length = 200,
        pattern = "^[^\\u0000-\\u001F\\u007F-\\u009F]*[^\\s\\u0000-\\u001F\\u007F-\\u009F][^\\u0000-\\u001F\\u007F-\\u009F]*$"
    )]
    pub convoy_reference: String,
    #[schema(
        example = "event_kind",
        min_length = 1,
        max_length = 200,
        pattern = "^[^\\u0000-\\u001F\\u007F-\\u009F]*[^\\s\\u0000-\\u001F\\u007F-\\u009F][^\\u0000-\\u001F\\u007F-\\u009F]*$"
    )]
    pub kind: String,
    #[schema(
        example = "checkpoint",
        min_length = 1,
        max_length = 200,
        pattern = "^[^\\u0000-\\u001F\\u007F-\\u009F]*[^\\s\\u0000-\\u001F\\u007F-\\u009F][^\\u0000-\\u001F\\u007F-\\u009F]*$"
    )]
    pub checkpoint: String,
    #[schema(
        example = "observed_at",
        min_length = 1,
        max_length = 200,
        pattern = "^[^\\u0000-\\u001F\\u007F-\\u009F]*[^\\s\\u0000-\\u001F\\u007F-\\u009F][^\\u0000-\\u001F\\u007F-\\u009F]*$"
    )]
    pub observed_at: String,
    /// The repeat group of cargo lines.
    #[schema(
        example = "cargo",
        min_length = 1,
        max_length = 200,
        pattern = "^[^\\u0000-\\u001F\\u007F-\\u009F]*[^\\s\\u0000-\\u001F\\u007F-\\u009F][^\\u0000-\\u001F\\u007F-\\u009F]*$"
    )]
    pub cargo: String,
    #[schema(
        example = "cargo/commodity",
        min_length = 1,
        max_length = 200,
        pattern = "^[^\\u0000-\\u001F\\u007F-\\u009F]*[^\\s\\u0000-\\u001F\\u007F-\\u009F][^\\u0000-\\u001F\\u007F-\\u009F]*$"
    )]
    pub commodity: String,
    #[schema(
        example = "cargo/quantity",
        min_length = 1,
        max_length = 200,
        pattern = "^[^\\u0000-\\u001F\\u007F-\\u009F]*[^\\s\\u0000-\\u001F\\u007F-\\u009F][^\\u0000-\\u001F\\u007F-\\u009F]*$"
    )]
    pub quantity: String,
    #[schema(
        example = "cargo/unit",
        min_length = 1,
        max_length = 200,
        pattern = "^[^\\u0000-\\u001F\\u007F-\\u009F]*[^\\s\\u0000-\\u001F\\u007F-\\u009F][^\\u0000-\\u001F\\u007F-\\u009F]*$"
    )]
    pub unit: String,
    #[schema(
        example = "cargo/reason",
        min_length = 1,
        max_length = 200,
        pattern = "^[^\\u0000-\\u001F\\u007F-\\u009F]*[^\\s\\u0000-\\u001F\\u007F-\\u009F][^\\u0000-\\u001F\\u007F-\\u009F]*$"
    )]
    pub reason: String,
    #[schema(
        example = "note",
        min_length = 1,
        max_length = 200,
        pattern = "^[^\\u0000-\\u001F\\u007F-\\u009F]*[^\\s\\u0000-\\u001F\\u007F-\\u009F][^\\u0000-\\u001F\\u007F-\\u009F]*$"
    )]
    pub note: String,
    /// The number of trucks counted at the checkpoint: `trucks_held` on a held event,
    /// `trucks_turned_back` on turned_back, `trucks_passed` on departed, cleared and
    /// delivered (an arrived event takes no count; the answer stays in the intake log).
    #[schema(
        example = "trucks",
        min_length = 1,
        max_length = 200,
        pattern = "^[^\\u0000-\\u001F\\u007F-\\u009F]*[^\\s\\u0000-\\u001F\\u007F-\\u009F][^\\u0000-\\u001F\\u007F-\\u009F]*$"
    )]
    pub trucks: String,
    #[schema(
        example = "meta/instanceID",
        min_length = 1,
        max_length = 200,
        pattern = "^[^\\u0000-\\u001F\\u007F-\\u009F]*[^\\s\\u0000-\\u001F\\u007F-\\u009F][^\\u0000-\\u001F\\u007F-\\u009F]*$"
    )]
    pub instance_id: String,
    #[schema(
        example = "meta/deprecatedID",
        min_length = 1,
        max_length = 200,
        pattern = "^[^\\u0000-\\u001F\\u007F-\\u009F]*[^\\s\\u0000-\\u001F\\u007F-\\u009F][^\\u0000-\\u001F\\u007F-\\u009F]*$"
    )]
    pub deprecated_id: String,
}

impl Default for Mapping {
    fn default() -> Self {
        Mapping {
            convoy_reference: "convoy_reference".into(),
            kind: "event_kind".into(),
            checkpoint: "checkpoint".into(),
            observed_at: "observed_at".into(),
            cargo: "cargo".into(),
            commodity: "cargo/commodity".into(),
            quantity: "cargo/quantity".into(),
            unit: "cargo/unit".into(),
            reason: "cargo/reason".into(),
            note: "note".into(),
            trucks: "trucks".into(),
            instance_id: "meta/instanceID".into(),
            deprecated_id: "meta/deprecatedID".into(),
        }
    }
}

impl Mapping {
    /// Every path the mapping names, by aidflow field, for checking them.
    pub fn paths(&self) -> [(&'static str, &str); 13] {
        [
            ("convoy_reference", &self.convoy_reference),
            ("kind", &self.kind),
            ("checkpoint", &self.checkpoint),
            ("observed_at", &self.observed_at),
            ("cargo", &self.cargo),
            ("commodity", &self.commodity),
            ("quantity", &self.quantity),
            ("unit", &self.unit),
            ("reason", &self.reason),
            ("note", &self.note),
            ("trucks", &self.trucks),
            ("instance_id", &self.instance_id),
            ("deprecated_id", &self.deprecated_id),
        ]
    }
}

/// What a submission says, by the mapping, before aidflow's own checks.
#[derive(Debug, Clone, PartialEq)]
pub struct Submitted {
    pub instance_id: Option<String>,
    pub deprecated_id: Option<String>,
    pub convoy_reference: Option<String>,
    /// The event as `POST /convoys/{id}/events` takes it (without `id` and `corrects`).
    pub event: Map<String, Value>,
}

/// A text answer at `path` (numbers as their text); empty answers are none.
fn text(v: &Map<String, Value>, path: &str) -> Option<String> {
    match v.get(path)? {
        Value::String(s) => Some(s.trim().to_string()).filter(|s| !s.is_empty()),
        Value::Number(n) => Some(n.to_string()),
        Value::Bool(b) => Some(b.to_string()),
        _ => None,
    }
}

/// Reads a flat submission with `m`. Cargo lines come from the repeat group; a line with
/// no answer at all is skipped (ODK sends an empty repeat when the group is not relevant).
pub fn read(flat: &Map<String, Value>, m: &Mapping) -> Submitted {
    let mut event = Map::new();
    for (key, path) in [
        ("kind", &m.kind),
        ("checkpoint", &m.checkpoint),
        ("observed_at", &m.observed_at),
        ("note", &m.note),
    ] {
        if let Some(v) = text(flat, path) {
            event.insert(key.into(), Value::String(v));
        }
    }
    let lines: Vec<Value> = match flat.get(&m.cargo) {
        Some(Value::Array(items)) => items
            .iter()
            .filter_map(Value::as_object)
            .filter_map(|line| {
                let mut out = Map::new();
                for (key, path) in [
                    ("commodity", &m.commodity),
                    ("quantity", &m.quantity),
                    ("unit", &m.unit),
                    ("reason", &m.reason),
                ] {
                    if let Some(v) = text(line, path) {
                        out.insert(key.into(), Value::String(v));
                    }
                }
                if out.is_empty() {
                    return None;
                }
                // A quantity without a unit is in tonnes, as the form's default says.
                if out.contains_key("quantity") && !out.contains_key("unit") {
                    out.insert("unit".into(), Value::String("t".into()));
                }
                Some(Value::Object(out))
            })
            .collect(),
        _ => Vec::new(),
    };
    if !lines.is_empty() {
        event.insert("cargo".into(), Value::Array(lines));
    }
    if let Some(count) = text(flat, &m.trucks) {
        let field = match event.get("kind").and_then(Value::as_str) {
            Some("held") => Some("trucks_held"),
            Some("turned_back") => Some("trucks_turned_back"),
            Some("departed" | "cleared" | "delivered") => Some("trucks_passed"),
            _ => None,
        };
        if let Some(field) = field {
            // Not a whole number: sent on as text, so the event is refused naming it.
            let value = count
                .parse::<i64>()
                .map_or(Value::String(count), Value::from);
            event.insert(field.into(), value);
        }
    }
    Submitted {
        instance_id: text(flat, &m.instance_id),
        deprecated_id: text(flat, &m.deprecated_id),
        convoy_reference: text(flat, &m.convoy_reference),
        event,
    }
}

/// The fields a submission lacks before it can become an event, named by the form's
/// field paths so the person who fixes the form knows where to look.
pub fn missing(s: &Submitted, m: &Mapping) -> Vec<FieldError> {
    let mut out = Vec::new();
    if s.convoy_reference.is_none() {
        out.push(FieldError::new(
            m.convoy_reference.clone(),
            "the submission has no convoy reference",
        ));
    }
    for (key, path) in [("kind", &m.kind), ("observed_at", &m.observed_at)] {
        if !s.event.contains_key(key) {
            out.push(FieldError::new(
                path.clone(),
                format!("the submission has no {key}"),
            ));
        }
    }
    out
}

/// An ODK instance (`<data id="…"><convoy_reference>…</convoy_reference><cargo>…</cargo>…`)
/// as a flat object keyed by path below the root. An element that appears more than
/// once with children, or that holds child elements and is named in `repeats`, is a
/// repeat group: an array of objects whose keys keep the full path.
pub fn flatten_instance(
    xml: &str,
    repeats: &[&str],
) -> Result<(String, Map<String, Value>), String> {
    let doc = parse_xml(xml)?;
    let mut flat = Map::new();
    let mut counts: BTreeMap<String, usize> = BTreeMap::new();
    for child in &doc.children {
        *counts.entry(child.name.clone()).or_default() += 1;
    }
    for child in &doc.children {
        let is_repeat = !child.children.is_empty()
            && (counts.get(&child.name).copied().unwrap_or(0) > 1
                || repeats.contains(&child.name.as_str()));
        if is_repeat {
            let mut line = Map::new();
            put(&child.children, &child.name, &mut line);
            match flat
                .entry(child.name.clone())
                .or_insert_with(|| Value::Array(Vec::new()))
            {
                Value::Array(items) => items.push(Value::Object(line)),
                _ => return Err(format!("{} is both a field and a repeat group", child.name)),
            }
        } else if child.children.is_empty() {
            flat.insert(child.name.clone(), Value::String(child.text.clone()));
        } else {
            put(&child.children, &child.name, &mut flat);
        }
    }
    Ok((doc.name, flat))
}

fn put(nodes: &[Node], prefix: &str, out: &mut Map<String, Value>) {
    for n in nodes {
        let path = format!("{prefix}/{}", n.name);
        if n.children.is_empty() {
            out.insert(path, Value::String(n.text.clone()));
        } else {
            put(&n.children, &path, out);
        }
    }
}

#[derive(Debug, Default)]
struct Node {
    name: String,
    text: String,
    children: Vec<Node>,
}

/// A small, strict reader of instance XML: elements and text only (no DTD, no entities
/// beyond XML's five), at most 64 levels deep.
fn parse_xml(xml: &str) -> Result<Node, String> {
    use quick_xml::events::Event;
    let mut reader = quick_xml::Reader::from_str(xml);
    let mut stack: Vec<Node> = Vec::new();
    let mut root: Option<Node> = None;
    loop {
        match reader.read_event() {
            Ok(Event::Start(e)) => {
                if stack.len() >= 64 || root.is_some() {
                    return Err("the instance XML is nested too deeply or has two roots".into());
                }
                let name = e.local_name().as_ref().to_string();
                stack.push(Node {
                    name,
                    ..Default::default()
                });
            }
            Ok(Event::Empty(e)) => {
                let name = e.local_name().as_ref().to_string();
                match stack.last_mut() {
                    Some(parent) => parent.children.push(Node {
                        name,
                        ..Default::default()
                    }),
                    None if root.is_some() => return Err("the instance XML has two roots".into()),
                    None => {
                        root = Some(Node {
                            name,
                            ..Default::default()
                        });
                    }
                }
            }
            Ok(Event::Text(t)) => {
                if let Some(n) = stack.last_mut() {
                    n.text.push_str(&t.xml10_content());
                }
            }
            Ok(Event::CData(t)) => {
                if let Some(n) = stack.last_mut() {
                    n.text.push_str(&t.xml10_content());
                }
            }
            Ok(Event::GeneralRef(r)) => {
                let ch = if r.is_char_ref() {
                    r.resolve_char_ref().ok().flatten()
                } else {
                    match r.xml10_content().as_ref() {
                        "amp" => Some('&'),
                        "lt" => Some('<'),
                        "gt" => Some('>'),
                        "quot" => Some('"'),
                        "apos" => Some('\''),
                        _ => None,
                    }
                };
                let ch = ch.ok_or_else(|| {
                    "the instance XML refers to an entity XML does not define".to_string()
                })?;
                if let Some(n) = stack.last_mut() {
                    n.text.push(ch);
                }
            }
            Ok(Event::End(_)) => {
                let Some(mut done) = stack.pop() else {
                    return Err("the instance XML closes an element it never opened".into());
                };
                done.text = done.text.trim().to_string();
                match stack.last_mut() {
                    Some(parent) => parent.children.push(done),
                    None => root = Some(done),
                }
            }
            Ok(Event::DocType(_)) => return Err("the instance XML may not have a DOCTYPE".into()),
            Ok(Event::Eof) => break,
            Ok(_) => {}
            Err(e) => return Err(format!("the instance XML does not parse: {e}")),
        }
    }
    if !stack.is_empty() {
        return Err("the instance XML ends before its elements are closed".into());
    }
    root.ok_or_else(|| "the instance XML has no root element".into())
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn obj(v: Value) -> Map<String, Value> {
        v.as_object().unwrap().clone()
    }

    #[test]
    fn a_kobo_submission_reads_with_the_default_mapping() {
        let flat = obj(json!({
            "_id": 1, "_uuid": "5b0c…", "convoy_reference": " AM-2023-07-26 ", "event_kind": "cleared",
            "route": "lachin", "checkpoint": "KORNIDZOR", "observed_at": "2023-09-01T09:00:00.000+04:00",
            "trucks": "19", "cargo_changed": "yes",
            "cargo": [
                {"cargo/commodity": "food", "cargo/quantity": "340", "cargo/unit": "t", "cargo/reason": "damaged"},
                {"cargo/commodity": "medical", "cargo/quantity": 500, "cargo/unit": "kg"},
                {}
            ],
            "meta/instanceID": "uuid:abc", "meta/deprecatedID": "uuid:old", "note": ""
        }));
        let s = read(&flat, &Mapping::default());
        assert_eq!(s.instance_id.as_deref(), Some("uuid:abc"));
        assert_eq!(s.deprecated_id.as_deref(), Some("uuid:old"));
        assert_eq!(s.convoy_reference.as_deref(), Some("AM-2023-07-26"));
        assert_eq!(
            Value::Object(s.event.clone()),
            json!({"kind": "cleared", "checkpoint": "KORNIDZOR", "observed_at": "2023-09-01T09:00:00.000+04:00",
                "cargo": [{"commodity": "food", "quantity": "340", "unit": "t", "reason": "damaged"},
                          {"commodity": "medical", "quantity": "500", "unit": "kg"}],
                "trucks_passed": 19})
        );
        assert!(missing(&s, &Mapping::default()).is_empty());
    }

    #[test]
    fn missing_fields_are_named_by_the_forms_paths() {
        let m = Mapping {
            convoy_reference: "convoy/ref".into(),
            ..Mapping::default()
        };
        let s = read(&obj(json!({"event_kind": "held"})), &m);
        let fields: Vec<String> = missing(&s, &m).into_iter().map(|f| f.field).collect();
        assert_eq!(fields, ["convoy/ref", "observed_at"]);
    }

    #[test]
    fn an_odk_instance_flattens_like_a_kobo_submission() {
        let xml = r#"<?xml version="1.0"?>
<data xmlns:jr="http://openrosa.org/javarosa" id="aidflow_checkpoint" version="2026120101">
  <convoy_reference>AM-2023-07-26</convoy_reference><event_kind>held</event_kind>
  <route>lachin</route><checkpoint>KORNIDZOR</checkpoint>
  <observed_at>2023-07-26T11:00:00.000+04:00</observed_at><trucks/>
  <cargo><commodity>food</commodity><quantity>340</quantity><unit>t</unit><reason>damaged</reason></cargo>
  <note>Fish &amp; bread</note>
  <meta><instanceID>uuid:1</instanceID></meta>
</data>"#;
        let (root, flat) = flatten_instance(xml, &["cargo"]).unwrap();
        assert_eq!(root, "data");
        assert_eq!(flat["meta/instanceID"], "uuid:1");
        assert_eq!(flat["note"], "Fish & bread");
        assert_eq!(flat["trucks"], "");
        assert_eq!(
            flat["cargo"],
            json!([{"cargo/commodity": "food", "cargo/quantity": "340", "cargo/unit": "t", "cargo/reason": "damaged"}])
        );
        let s = read(&flat, &Mapping::default());
        assert_eq!(s.event["cargo"][0]["reason"], "damaged");
    }

    #[test]
    fn bad_instance_xml_is_refused_with_a_reason() {
        for bad in [
            "",
            "<data><a></data>",
            "<!DOCTYPE x [<!ENTITY e \"x\">]><data/>",
            "<data></data><data/>",
        ] {
            assert!(flatten_instance(bad, &[]).is_err(), "{bad:?}");
        }
    }
}
