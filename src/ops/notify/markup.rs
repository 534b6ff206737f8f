//! Text and links made safe for the Markdown that Teams cards and the legacy SNS messages are read as, so
//! that what a message says (its service, its commit URL, ECS's reasons) can add no formatting, text or
//! links of its own.

/// `text` with every character that starts Markdown formatting, a link or markup escaped by a backslash
/// (and `#`, `-` and `+` where they would start a heading or a list), and line breaks and other control
/// characters written out as escapes, so that the text stays on one line.
pub fn markdown_text(text: &str) -> String {
    let mut escaped = String::with_capacity(text.len());
    for (i, c) in text.chars().enumerate() {
        match c {
            '\\' | '`' | '*' | '_' | '[' | ']' | '(' | ')' | '<' | '>' | '~' | '|' | '&' => {
                escaped.push('\\');
                escaped.push(c);
            }
            '#' | '-' | '+' if i == 0 => {
                escaped.push('\\');
                escaped.push(c);
            }
            c if c.is_control() => escaped.extend(c.escape_default()),
            c => escaped.push(c),
        }
    }
    escaped
}

/// `url` as a Markdown link's target: the characters that would end the link or start another
/// percent-encoded, so that the link stays one link to that address.
pub fn markdown_url(url: &str) -> String {
    let mut encoded = String::with_capacity(url.len());
    for c in url.chars() {
        let breaks_out = matches!(
            c,
            '(' | ')' | '[' | ']' | '<' | '>' | '"' | '\'' | '`' | '\\' | ' ' | '|' | '*' | '_'
        );
        if breaks_out || c.is_control() || !c.is_ascii() {
            let mut buffer = [0u8; 4];
            for byte in c.encode_utf8(&mut buffer).bytes() {
                encoded.push_str(&format!("%{byte:02X}"));
            }
        } else {
            encoded.push(c);
        }
    }
    encoded
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn text_cannot_add_formatting_or_links() {
        let cases = [
            ("web", "web"),
            ("web-api_2", "web-api\\_2"),
            ("- item", "\\- item"),
            (
                "x](https://evil.example) **click**",
                "x\\]\\(https://evil.example\\) \\*\\*click\\*\\*",
            ),
            ("a\nb", "a\\nb"),
            ("<br>", "\\<br\\>"),
        ];
        for (text, expected) in cases {
            assert_eq!(markdown_text(text), expected, "{text:?}");
        }
    }

    #[test]
    fn a_link_target_stays_one_link() {
        let cases = [
            (
                "https://github.com/o/r/commit/abc",
                "https://github.com/o/r/commit/abc",
            ),
            (
                "https://x.example/a)[evil](https://evil.example",
                "https://x.example/a%29%5Bevil%5D%28https://evil.example",
            ),
            ("https://x.example/a b", "https://x.example/a%20b"),
        ];
        for (url, expected) in cases {
            assert_eq!(markdown_url(url), expected, "{url:?}");
        }
    }
}
