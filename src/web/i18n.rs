//! Every string a person reads in the browser app, per language: the catalogues are the
//! TOML files under `src/web/locales/<language>/`, compiled into the binary. Pages call
//! `t.get("overview.title")`; the field app reads its `field.*` strings from the page.
//!
//! English ships; `qps` is a pseudo-locale (every string bracketed and accented, made by
//! `scripts/pseudo_locale.py`) that shows a second language works and that no string
//! escaped the catalogue. Adding Armenian or Russian is adding a folder and a line below.

use std::collections::BTreeMap;
use std::sync::LazyLock;

/// The catalogue files of each language, by language tag.
const SOURCES: [(&str, &str, &str); 2] = [
    (
        "en",
        include_str!("locales/en/pages.toml"),
        include_str!("locales/en/field.toml"),
    ),
    (
        "qps",
        include_str!("locales/qps/pages.toml"),
        include_str!("locales/qps/field.toml"),
    ),
];

/// One language's strings by key (`overview.title`, `field.record`).
#[derive(Debug)]
pub struct Texts {
    pub lang: &'static str,
    strings: BTreeMap<String, String>,
}

impl Texts {
    /// The string for `key`; a key missing from the catalogue shows as itself (a unit
    /// test keeps every key used by the templates in every catalogue).
    pub fn get<'a>(&'a self, key: &'a str) -> &'a str {
        self.strings.get(key).map_or(key, String::as_str)
    }

    /// The string for `key` with `{name}` placeholders filled in.
    pub fn fill(&self, key: &str, values: &[(&str, &str)]) -> String {
        let mut s = self.get(key).to_string();
        for (name, value) in values {
            s = s.replace(&format!("{{{name}}}"), value);
        }
        s
    }

    /// The `field.*` strings without their prefix, as a JSON object for the field app.
    pub fn field_json(&self) -> String {
        let field: BTreeMap<&str, &str> = self
            .strings
            .iter()
            .filter_map(|(k, v)| Some((k.strip_prefix("field.")?, v.as_str())))
            .collect();
        // `</` cannot end the <script> element the JSON is placed in.
        serde_json::to_string(&field)
            .unwrap_or_else(|_| "{}".into())
            .replace("</", "<\\/")
    }

    pub fn keys(&self) -> impl Iterator<Item = &str> {
        self.strings.keys().map(String::as_str)
    }
}

fn flatten(prefix: &str, value: &toml::Value, out: &mut BTreeMap<String, String>) {
    match value {
        toml::Value::Table(table) => {
            for (k, v) in table {
                let key = if prefix.is_empty() {
                    k.clone()
                } else {
                    format!("{prefix}.{k}")
                };
                flatten(&key, v, out);
            }
        }
        toml::Value::String(s) => {
            out.insert(prefix.to_string(), s.clone());
        }
        other => {
            out.insert(prefix.to_string(), other.to_string());
        }
    }
}

fn load(lang: &'static str, pages: &str, field: &str) -> Texts {
    let mut strings = BTreeMap::new();
    // A catalogue that does not parse is caught by the unit tests; at run time its keys
    // show as themselves rather than taking the server down.
    if let Ok(v) = pages.parse::<toml::Value>() {
        flatten("", &v, &mut strings);
    }
    if let Ok(v) = field.parse::<toml::Value>() {
        flatten("field", &v, &mut strings);
    }
    Texts { lang, strings }
}

static LOCALES: LazyLock<Vec<Texts>> = LazyLock::new(|| {
    SOURCES
        .iter()
        .map(|(lang, pages, field)| load(lang, pages, field))
        .collect()
});

/// The languages aidflow has, by tag.
pub fn languages() -> impl Iterator<Item = &'static str> {
    SOURCES.iter().map(|(lang, _, _)| *lang)
}

/// The catalogue for language `lang`, if aidflow has it.
pub fn texts(lang: &str) -> Option<&'static Texts> {
    LOCALES.iter().find(|t| t.lang.eq_ignore_ascii_case(lang))
}

/// The language for a request: `?lang=` if aidflow has it, else the first language of
/// `Accept-Language` it has (`hy-AM` matches `hy`), else the deployment's default, else
/// English.
pub fn negotiate(explicit: Option<&str>, accept: Option<&str>, default: &str) -> &'static Texts {
    let from_accept = accept
        .into_iter()
        .flat_map(|a| a.split(','))
        .find_map(|part| {
            let tag = part.split(';').next()?.trim();
            texts(tag).or_else(|| texts(tag.split('-').next()?))
        });
    explicit
        .and_then(texts)
        .or(from_accept)
        .or_else(|| texts(default))
        .or_else(|| LOCALES.first())
        .unwrap_or_else(|| &FALLBACK)
}

static FALLBACK: LazyLock<Texts> = LazyLock::new(|| Texts {
    lang: "en",
    strings: BTreeMap::new(),
});

#[cfg(test)]
mod tests {
    use super::*;

    /// The keys a template or script uses: `t.get("…")`, `t.fill("…"` and the field
    /// app's `tr("…")`.
    fn used_keys(source: &str) -> Vec<String> {
        let mut keys = Vec::new();
        for marker in ["t.get(\"", "t.fill(\"", "tr(\""] {
            let mut rest = source;
            while let Some(i) = rest.find(marker) {
                rest = &rest[i + marker.len()..];
                if let Some(end) = rest.find('"') {
                    keys.push(rest[..end].to_string());
                }
            }
        }
        keys
    }

    #[test]
    fn every_catalogue_parses_and_has_the_same_keys_as_english() {
        for (lang, pages, field) in SOURCES {
            assert!(
                pages.parse::<toml::Value>().is_ok(),
                "{lang}/pages.toml does not parse"
            );
            assert!(
                field.parse::<toml::Value>().is_ok(),
                "{lang}/field.toml does not parse"
            );
        }
        let english: Vec<&str> = texts("en").unwrap().keys().collect();
        assert!(
            english.len() > 50,
            "English has only {} strings",
            english.len()
        );
        for lang in languages() {
            let keys: Vec<&str> = texts(lang).unwrap().keys().collect();
            assert_eq!(keys, english, "language {lang} has other keys than English");
        }
    }

    #[test]
    fn every_key_the_templates_use_is_in_the_english_catalogue() {
        let en = texts("en").unwrap();
        for (name, source) in crate::web::templates_and_scripts() {
            for key in used_keys(source) {
                let key = if name.ends_with(".js") {
                    format!("field.{key}")
                } else {
                    key
                };
                assert!(
                    en.strings.contains_key(&key),
                    "{name} uses {key}, which en/ lacks"
                );
            }
        }
    }

    #[test]
    fn the_language_is_chosen_from_the_query_then_the_browser_then_the_default() {
        assert_eq!(negotiate(Some("qps"), Some("en"), "en").lang, "qps");
        assert_eq!(
            negotiate(Some("xx"), Some("fr, qps;q=0.5"), "en").lang,
            "qps"
        );
        assert_eq!(negotiate(None, Some("hy-AM,hy;q=0.9"), "en").lang, "en");
        assert_eq!(negotiate(None, None, "qps").lang, "qps");
        assert_eq!(negotiate(None, None, "zz").lang, "en");
    }

    #[test]
    fn placeholders_are_filled_and_json_cannot_close_its_script() {
        let en = texts("en").unwrap();
        assert!(en
            .fill("overview.waiting_at", &[("tonnes", "360.000 t")])
            .contains("360.000 t"));
        assert!(!en.field_json().contains("</"));
    }
}
