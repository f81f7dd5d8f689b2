//! A note's Markdown as HTML for the preview. The note came from another member, so
//! nothing in it may become markup of its own: raw HTML is shown as text, links keep
//! their text and address but cannot be followed (the window navigates nowhere), and
//! images show their description, never a fetch. The CSP would stop a script or a
//! remote image anyway; this keeps the preview from even asking.

use pulldown_cmark::{Event, Options, Parser, Tag, TagEnd, html};

/// The most a preview renders: longer notes are cut there (the editor keeps all).
pub(crate) const MAX_PREVIEW_BYTES: usize = 256 * 1024;

/// Renders `text` as safe HTML.
pub(crate) fn render(text: &str) -> String {
    let mut end = text.len().min(MAX_PREVIEW_BYTES);
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    let options = Options::ENABLE_TABLES | Options::ENABLE_STRIKETHROUGH | Options::ENABLE_TASKLISTS;
    let events = Parser::new_ext(&text[..end], options).map(|event| match event {
        Event::Html(raw) | Event::InlineHtml(raw) => Event::Text(raw),
        Event::Start(Tag::Link { dest_url, .. }) => {
            Event::Html(format!("<span class=\"link\" title=\"{}\">", escape(&dest_url)).into())
        }
        Event::End(TagEnd::Link) => Event::Html("</span>".into()),
        Event::Start(Tag::Image { .. }) => Event::Html("<span class=\"image\">".into()),
        Event::End(TagEnd::Image) => Event::Html("</span>".into()),
        other => other,
    });
    let mut out = String::with_capacity(end + end / 4);
    html::push_html(&mut out, events);
    out
}

fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::render;

    #[test]
    fn headings_lists_and_emphasis_render() {
        let html = render("# Hearing\n\n- *Thursday*\n- **room 4**\n");
        assert!(html.contains("<h1>Hearing</h1>"), "{html}");
        assert!(html.contains("<em>Thursday</em>"), "{html}");
        assert!(html.contains("<strong>room 4</strong>"), "{html}");
    }

    #[test]
    fn a_members_markup_stays_text() {
        let html = render(
            "<script>alert(1)</script>\n\nhi <img src=x onerror=alert(1)> [go](javascript:alert(1)) ![p](https://tracker.example/p.png)",
        );
        assert!(!html.contains("<script"), "{html}");
        assert!(!html.contains("<img"), "{html}");
        assert!(!html.contains("<a "), "{html}");
        assert!(html.contains("&lt;script&gt;"), "{html}");
        assert!(html.contains("title=\"javascript:alert(1)\""), "{html}");
        let quoted = render("[x](\"onmouseover=\"alert(1))");
        assert!(!quoted.contains("\" onmouseover"), "{quoted}");
    }

    #[test]
    fn a_long_note_is_cut_on_a_character() {
        let text = "é".repeat(super::MAX_PREVIEW_BYTES);
        assert!(render(&text).len() < super::MAX_PREVIEW_BYTES + 64);
    }
}
