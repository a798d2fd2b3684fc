//! The approval pages: plain HTML, no script, every value from data escaped, the same security headers on
//! every one. Tests find their parts by id: `#outcome` (with `data-outcome`: page, approved, rejected,
//! expired, invalid, decided, malformed or failed), `#approve`, `#reject`, `#comment`.
//!
//! A page never holds the token, the MAC or the link: the confirmation form has no `action`, so the browser
//! posts it to the page's own URL (<https://html.spec.whatwg.org/multipage/form-control-infrastructure.html#form-submission-algorithm>:
//! an empty action is the document's URL), and `Referrer-Policy: no-referrer` keeps that URL from other sites.

use crate::http::Response;

/// The headers of every page.
pub const HEADERS: [(&str, &str); 6] = [
    ("content-type", "text/html; charset=utf-8"),
    ("cache-control", "no-store"),
    ("referrer-policy", "no-referrer"),
    ("x-frame-options", "DENY"),
    (
        "content-security-policy",
        "default-src 'none'; style-src 'unsafe-inline'; form-action 'self'; frame-ancestors 'none'",
    ),
    ("x-content-type-options", "nosniff"),
];

/// The longest comment a decision takes, in characters.
pub const MAX_COMMENT_CHARS: usize = 1000;

const STYLE: &str = "body{font-family:system-ui,sans-serif;max-width:46rem;margin:2rem auto;padding:0 1rem;\
color:#1b1b1b;line-height:1.5}dt{font-weight:600}dd{margin:0 0 .5rem 0}pre{background:#f4f4f4;padding:1rem;\
overflow:auto;max-height:24rem;white-space:pre-wrap;word-break:break-all}textarea{width:100%;box-sizing:border-box}\
button{font-size:1rem;padding:.5rem 1.5rem;margin:1rem 1rem 0 0}#approve{background:#1a7f37;color:#fff;border:0}\
#reject{background:#b42318;color:#fff;border:0}.note{color:#555;font-size:.9rem}";

/// Escapes text for HTML element content and quoted attribute values.
pub fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            // Control characters other than tab and line breaks have no business on a page.
            c if c.is_control() && !matches!(c, '\t' | '\n' | '\r') => out.push('\u{FFFD}'),
            c => out.push(c),
        }
    }
    out
}

/// What a page says: its `data-outcome` and its text.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Page {
    /// The confirmation page (GET): what waits and the form.
    Confirm(Box<Pending>),
    /// The decision went through.
    Decided {
        /// Approved or rejected.
        approved: bool,
        /// The state that waited.
        state: String,
    },
    /// Someone decided before.
    AlreadyDecided {
        /// `approved` or `rejected`, as recorded.
        decision: String,
        /// When (RFC 3339), as recorded.
        decided_at: String,
    },
    /// The link's time is over (or the approval is gone).
    Expired,
    /// The link was not made by the module (tampered).
    Invalid,
    /// The request is not a link's (a cut link, a wrong method or path, a bad form).
    Malformed(String),
    /// Something failed on AWS's side: try again.
    Error(String),
}

/// What the confirmation page shows.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Pending {
    /// The state waiting for the decision.
    pub state: String,
    /// The execution's name.
    pub execution: String,
    /// When the approval was requested (RFC 3339).
    pub requested: String,
    /// When the link expires (RFC 3339).
    pub expires: String,
    /// The step's input, JSON text (possibly cut).
    pub input: String,
    /// Whether the input was cut.
    pub input_cut: bool,
}

impl Page {
    /// The `data-outcome` of `#outcome`.
    pub fn outcome(&self) -> &'static str {
        match self {
            Page::Confirm(_) => "page",
            Page::Decided { approved: true, .. } => "approved",
            Page::Decided { approved: false, .. } => "rejected",
            Page::AlreadyDecided { .. } => "decided",
            Page::Expired => "expired",
            Page::Invalid => "invalid",
            Page::Malformed(_) => "malformed",
            Page::Error(_) => "failed",
        }
    }

    /// The HTML the page is.
    pub fn html(&self) -> String {
        let (title, body) = match self {
            Page::Confirm(p) => ("Approval requested", confirm(p)),
            Page::Decided { approved, state } => {
                let word = if *approved { "Approved" } else { "Rejected" };
                (
                    word,
                    format!(
                        "<p>{word}. The step <strong>{}</strong> has its answer; you can close this page.</p>",
                        escape(state)
                    ),
                )
            }
            Page::AlreadyDecided { decision, decided_at } => (
                "Already decided",
                format!(
                    "<p>This approval was already decided: <strong>{}</strong> at {}. A link decides once.</p>",
                    escape(decision),
                    escape(&shown_time(decided_at))
                ),
            ),
            Page::Expired => (
                "Link expired",
                "<p>This approval link has expired: the step stopped waiting for it. Nothing was decided.</p>".into(),
            ),
            Page::Invalid => (
                "Link not valid",
                "<p>This link is not valid: it was changed or not made for this approval. Use the link from the \
                 notification as it was sent.</p>"
                    .into(),
            ),
            Page::Malformed(reason) => (
                "Not an approval link",
                format!(
                    "<p>This is not a complete approval link ({}). Open the link from the notification as it was sent.</p>",
                    escape(reason)
                ),
            ),
            Page::Error(reason) => (
                "Try again",
                format!(
                    "<p>The decision could not be handled now ({}). Nothing was decided; try again in a minute.</p>",
                    escape(reason)
                ),
            ),
        };
        format!(
            "<!doctype html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">\
             <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\
             <meta name=\"robots\" content=\"noindex, nofollow\"><title>{title}</title><style>{STYLE}</style></head>\n\
             <body><main id=\"outcome\" data-outcome=\"{}\"><h1>{title}</h1>\n{body}\n</main></body></html>\n",
            self.outcome()
        )
    }

    /// The page as a response with `status` and [`HEADERS`].
    pub fn response(&self, status: u16) -> Response {
        Response {
            status,
            headers: HEADERS.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect(),
            body: self.html(),
        }
    }
}

/// `2026-12-03T12:00:00Z` as `2026-12-03 12:00:00 UTC`.
fn shown_time(rfc3339: &str) -> String {
    match rfc3339.strip_suffix('Z') {
        Some(t) => format!("{} UTC", t.replacen('T', " ", 1)),
        None => rfc3339.to_string(),
    }
}

fn confirm(p: &Pending) -> String {
    let cut = if p.input_cut {
        "<p class=\"note\">The input is cut to its first 16 KiB.</p>"
    } else {
        ""
    };
    format!(
        "<dl><dt>Step</dt><dd id=\"state\">{}</dd><dt>Execution</dt><dd id=\"execution\">{}</dd>\
         <dt>Requested</dt><dd id=\"requested\">{}</dd><dt>Link expires</dt><dd id=\"expires\">{}</dd></dl>\n\
         <h2>Input</h2>\n<pre id=\"input\">{}</pre>{cut}\n\
         <form method=\"post\"><label for=\"comment\">Comment (optional, up to {MAX_COMMENT_CHARS} characters)</label>\n\
         <textarea id=\"comment\" name=\"comment\" maxlength=\"{MAX_COMMENT_CHARS}\" rows=\"4\"></textarea>\n\
         <button id=\"approve\" type=\"submit\" name=\"decision\" value=\"approve\">Approve</button>\
         <button id=\"reject\" type=\"submit\" name=\"decision\" value=\"reject\">Reject</button></form>\n\
         <p class=\"note\">Opening this page changed nothing. The first Approve or Reject decides, once.</p>",
        escape(&p.state),
        escape(&p.execution),
        escape(&shown_time(&p.requested)),
        escape(&shown_time(&p.expires)),
        escape(&p.input),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pending(input: &str) -> Pending {
        Pending {
            state: "Approve <refund>".into(),
            execution: "exec-\"1\"".into(),
            requested: "2026-12-03T12:00:00Z".into(),
            expires: "2026-12-06T12:00:00Z".into(),
            input: input.into(),
            input_cut: false,
        }
    }

    #[test]
    fn escaping_covers_markup_quotes_and_controls() {
        assert_eq!(
            escape(r#"<script>alert('x')</script> & "q""#),
            "&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt; &amp; &quot;q&quot;"
        );
        assert_eq!(escape("a\u{0}b\nc\u{1b}"), "a\u{FFFD}b\nc\u{FFFD}");
    }

    #[test]
    fn the_confirmation_page_escapes_all_data_and_has_no_script() {
        let hostile = r#"{"name": "</pre><script>alert(1)</script><img src=x onerror=alert(2)>", "q": "a'b"}"#;
        let html = Page::Confirm(Box::new(pending(hostile))).html();
        assert!(!html.to_ascii_lowercase().contains("<script"), "{html}");
        assert!(!html.contains("<img"), "{html}");
        assert!(
            html.contains("&lt;/pre&gt;&lt;script&gt;alert(1)&lt;/script&gt;"),
            "{html}"
        );
        assert!(html.contains("<dd id=\"state\">Approve &lt;refund&gt;</dd>"), "{html}");
        assert!(html.contains("<dd id=\"execution\">exec-&quot;1&quot;</dd>"), "{html}");
        assert!(
            html.contains("<dd id=\"expires\">2026-12-06 12:00:00 UTC</dd>"),
            "{html}"
        );
        // One <pre> only: the input could not close it.
        assert_eq!(html.matches("</pre>").count(), 1);
    }

    #[test]
    fn the_form_posts_to_the_page_itself_with_two_buttons_and_a_comment() {
        let html = Page::Confirm(Box::new(pending("{}"))).html();
        assert!(html.contains("<form method=\"post\">"), "{html}");
        assert!(!html.contains("action="), "{html}");
        assert!(html.contains(r#"<button id="approve" type="submit" name="decision" value="approve">"#));
        assert!(html.contains(r#"<button id="reject" type="submit" name="decision" value="reject">"#));
        assert!(html.contains(r#"<textarea id="comment" name="comment" maxlength="1000""#));
        assert!(html.contains(r#"<main id="outcome" data-outcome="page">"#));
    }

    #[test]
    fn every_page_has_its_outcome_and_the_headers() {
        let pages = [
            (Page::Confirm(Box::new(pending("{}"))), "page"),
            (
                Page::Decided {
                    approved: true,
                    state: "S".into(),
                },
                "approved",
            ),
            (
                Page::Decided {
                    approved: false,
                    state: "S".into(),
                },
                "rejected",
            ),
            (
                Page::AlreadyDecided {
                    decision: "approved".into(),
                    decided_at: "2026-12-03T12:00:00Z".into(),
                },
                "decided",
            ),
            (Page::Expired, "expired"),
            (Page::Invalid, "invalid"),
            (Page::Malformed("<x>".into()), "malformed"),
            (Page::Error("<y>".into()), "failed"),
        ];
        for (page, outcome) in pages {
            let response = page.response(200);
            assert!(
                response
                    .body
                    .contains(&format!(r#"<main id="outcome" data-outcome="{outcome}">"#)),
                "{}",
                response.body
            );
            assert!(!response.body.contains("<x>") && !response.body.contains("<y>"));
            assert!(!response.body.to_ascii_lowercase().contains("<script"));
            for (name, value) in HEADERS {
                assert!(
                    response.headers.contains(&(name.to_string(), value.to_string())),
                    "{outcome}: {name}"
                );
            }
        }
        assert!(
            Page::AlreadyDecided {
                decision: "rejected".into(),
                decided_at: "2026-12-03T12:00:00Z".into()
            }
            .html()
            .contains("<strong>rejected</strong> at 2026-12-03 12:00:00 UTC")
        );
    }
}
