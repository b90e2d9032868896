//! Which characters aidflow accepts in text. PostgreSQL refuses NUL in text and SQLite
//! stores it, so every value is checked before it reaches either backend: both answer
//! alike, and nothing invisible ends up in a report.

/// The first character that text may not contain, with its character position: any
/// control character (Unicode category Cc: U+0000–U+001F, U+007F–U+009F) except tab, line
/// feed and carriage return, which notes typed on any system (CR LF from browsers and
/// Windows) legitimately carry.
pub fn forbidden_char(s: &str) -> Option<(usize, char)> {
    s.chars()
        .enumerate()
        .find(|(_, c)| c.is_control() && !matches!(c, '\t' | '\n' | '\r'))
}

/// The message for text holding a forbidden character, naming it (`U+0000`) and where.
pub fn forbidden_message(s: &str) -> Option<String> {
    forbidden_char(s).map(|(at, c)| {
        format!(
            "contains the control character U+{:04X} at character {}; text may hold tab, line feed and carriage return but no other control characters",
            u32::from(c),
            at + 1
        )
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn control_characters_other_than_tab_and_line_breaks_are_found() {
        let cases: &[(&str, Option<(usize, char)>)] = &[
            ("", None),
            ("plain text, ünïcode → ok", None),
            ("tab\tnewline\ncr\r\n", None),
            ("\u{0}", Some((0, '\u{0}'))),
            ("arm\u{0}gov", Some((3, '\u{0}'))),
            ("bell\u{7}", Some((4, '\u{7}'))),
            ("vt\u{b}", Some((2, '\u{b}'))),
            ("ff\u{c}", Some((2, '\u{c}'))),
            ("esc\u{1b}[31m", Some((3, '\u{1b}'))),
            ("del\u{7f}", Some((3, '\u{7f}'))),
            ("c1\u{85}", Some((2, '\u{85}'))),
            ("c1\u{9f}", Some((2, '\u{9f}'))),
            ("nbsp\u{a0} is not a control", None),
            ("é\u{0}", Some((1, '\u{0}'))),
        ];
        for (text, expected) in cases {
            assert_eq!(forbidden_char(text), *expected, "{text:?}");
        }
    }

    #[test]
    fn the_message_names_the_character_and_its_position() {
        assert_eq!(
            forbidden_message("arm\u{0}gov").as_deref(),
            Some("contains the control character U+0000 at character 4; text may hold tab, line feed and carriage return but no other control characters")
        );
        assert_eq!(forbidden_message("fine\r\n"), None);
    }
}
