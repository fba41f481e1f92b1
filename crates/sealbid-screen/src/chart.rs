//! A small self-contained SVG price chart of one tender, for an alert's evidence: the bids in
//! ascending order as dots, the owner's estimate as a dashed line, the winner ringed, the bidders an
//! alert names in another colour, and the price axis labelled.
//!
//! The SVG has no script, no style sheet, no external reference and no event attribute; every piece of
//! user data (bidder ids, the tender id) is escaped, and characters XML 1.0 cannot carry are replaced,
//! so the output is well-formed XML whatever the input. Degenerate tenders (no bids, one bid, identical
//! bids, a zero estimate, unusable prices) still give a valid chart.
use std::fmt::Write;

use crate::input::TenderBids;

/// Width and height of the chart, in SVG user units (pixels at 100 %).
pub const WIDTH: f64 = 360.0;
pub const HEIGHT: f64 = 160.0;

const LEFT: f64 = 56.0;
const RIGHT: f64 = 350.0;
const TOP: f64 = 20.0;
const BOTTOM: f64 = 130.0;

const BID: &str = "#4a6fa5";
const HIGHLIGHT: &str = "#d1495b";
const ESTIMATE: &str = "#6b6b6b";

/// Escapes text for an XML text node or attribute value; characters not allowed in XML 1.0 (control
/// characters other than tab and newlines, lone surrogates cannot occur in a `str`, U+FFFE/U+FFFF)
/// become U+FFFD.
pub fn escape_xml(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&apos;"),
            '\t' | '\n' | '\r' => out.push(c),
            c if (c as u32) < 0x20 || c == '\u{fffe}' || c == '\u{ffff}' => out.push('\u{fffd}'),
            c => out.push(c),
        }
    }
    out
}

/// A price in at most four significant digits with a k/M/G suffix (`1.05M`), for axis labels.
fn compact(v: f64) -> String {
    let a = v.abs();
    let (x, suffix) = if a >= 1e9 {
        (v / 1e9, "G")
    } else if a >= 1e6 {
        (v / 1e6, "M")
    } else if a >= 1e4 {
        (v / 1e3, "k")
    } else {
        (v, "")
    };
    let digits = if x.abs() >= 100.0 {
        1
    } else if x.abs() >= 10.0 {
        2
    } else {
        3
    };
    let s = format!("{x:.digits$}");
    let s = if s.contains('.') {
        s.trim_end_matches('0').trim_end_matches('.').to_string()
    } else {
        s
    };
    format!("{s}{suffix}")
}

/// The name a bid goes by in the chart and in alerts: its bidder id, or `#n` (1-based position).
fn name(tender: &TenderBids, index: usize) -> String {
    tender
        .bids
        .get(index)
        .and_then(|b| b.bidder.clone())
        .unwrap_or_else(|| format!("#{}", index + 1))
}

/// The chart of `tender`, with the bids of the bidders in `highlight` (ids as in [`crate::Alert`]'s
/// `bidders`, `#n` for a bid without one) in another colour.
pub fn price_chart_svg(tender: &TenderBids, highlight: &[String]) -> String {
    // Usable bids: finite prices above zero, ascending (ties by position).
    let mut bids: Vec<(usize, f64)> = tender
        .bids
        .iter()
        .enumerate()
        .filter(|(_, b)| b.price.is_finite() && b.price > 0.0)
        .map(|(i, b)| (i, b.price))
        .collect();
    bids.sort_by(|a, b| a.1.total_cmp(&b.1).then(a.0.cmp(&b.0)));
    let left_out = tender.bids.len() - bids.len();
    let estimate = tender.estimate.filter(|e| e.is_finite() && *e > 0.0);

    let mut svg = String::with_capacity(2048);
    // Writing to a String cannot fail; the results are ignored.
    let _ = write!(
        svg,
        r#"<svg xmlns="http://www.w3.org/2000/svg" width="{WIDTH}" height="{HEIGHT}" viewBox="0 0 {WIDTH} {HEIGHT}" font-family="sans-serif" font-size="10" role="img">"#
    );
    let title = format!(
        "Tender {}: {} bid{}",
        tender.tender,
        bids.len(),
        if bids.len() == 1 { "" } else { "s" }
    );
    let _ = write!(svg, "<title>{}</title>", escape_xml(&title));
    let _ = write!(
        svg,
        r##"<rect x="0" y="0" width="{WIDTH}" height="{HEIGHT}" fill="#ffffff"/>"##
    );
    // The visible title is cut to leave room for the legend; the full one is in <title>.
    let mut shown = title.clone();
    if shown.chars().count() > 34 {
        shown = shown.chars().take(33).collect::<String>() + "…";
    }
    let mut shown_title = escape_xml(&shown);
    if left_out > 0 {
        let _ = write!(shown_title, " ({left_out} not shown: no usable price)");
    }
    let _ = write!(
        svg,
        r##"<text x="{LEFT}" y="12" fill="#222222">{shown_title}</text>"##
    );
    // Axes.
    let _ = write!(
        svg,
        r##"<path d="M{LEFT} {TOP}V{BOTTOM}H{RIGHT}" fill="none" stroke="#999999" stroke-width="1"/>"##
    );
    let _ = write!(
        svg,
        r##"<text x="{}" y="{}" text-anchor="middle" fill="#444444">bids, lowest to highest</text>"##,
        (LEFT + RIGHT) / 2.0,
        HEIGHT - 6.0
    );

    if bids.is_empty() {
        let _ = write!(
            svg,
            r##"<text x="{}" y="{}" text-anchor="middle" fill="#444444">no bid with a usable price</text>"##,
            (LEFT + RIGHT) / 2.0,
            (TOP + BOTTOM) / 2.0
        );
        svg.push_str("</svg>");
        return svg;
    }

    // Price range over the bids and the estimate, padded; a range of zero (one bid, identical bids)
    // is widened to ±5 % of the price so the dots sit mid-height.
    let mut lo = bids.first().map_or(0.0, |b| b.1);
    let mut hi = bids.last().map_or(0.0, |b| b.1);
    if let Some(e) = estimate {
        lo = lo.min(e);
        hi = hi.max(e);
    }
    let pad = if hi > lo {
        (hi - lo) * 0.1
    } else {
        (hi.abs() * 0.05).max(f64::MIN_POSITIVE)
    };
    let (lo, hi) = (lo - pad, hi + pad);
    let y = |p: f64| {
        let t = ((p - lo) / (hi - lo)).clamp(0.0, 1.0);
        let v = BOTTOM - t * (BOTTOM - TOP);
        if v.is_finite() {
            v
        } else {
            (TOP + BOTTOM) / 2.0
        }
    };
    let step = (RIGHT - LEFT) / bids.len() as f64;
    let x = |rank: usize| LEFT + step * (rank as f64 + 0.5);

    // Price axis: the lowest and highest bid.
    let (min_bid, max_bid) = (
        bids.first().map_or(0.0, |b| b.1),
        bids.last().map_or(0.0, |b| b.1),
    );
    let mut ticks = vec![min_bid];
    if max_bid > min_bid {
        ticks.push(max_bid);
    }
    for t in ticks {
        let ty = y(t);
        let _ = write!(
            svg,
            r##"<path d="M{} {ty:.1}H{LEFT}" stroke="#999999"/><text x="{}" y="{:.1}" text-anchor="end" fill="#444444">{}</text>"##,
            LEFT - 4.0,
            LEFT - 6.0,
            ty + 3.5,
            escape_xml(&compact(t))
        );
    }

    if let Some(e) = estimate {
        let ey = y(e);
        let _ = write!(
            svg,
            r##"<path d="M{LEFT} {ey:.1}H{RIGHT}" stroke="{ESTIMATE}" stroke-dasharray="4 3" fill="none"><title>estimate {}</title></path><text x="{}" y="{:.1}" text-anchor="end" fill="{ESTIMATE}">estimate {}</text>"##,
            escape_xml(&compact(e)),
            RIGHT,
            ey - 3.0,
            escape_xml(&compact(e))
        );
    }

    let radius = (step * 0.3).clamp(1.5, 5.0);
    for (rank, &(index, price)) in bids.iter().enumerate() {
        let who = name(tender, index);
        let highlighted = highlight.contains(&who);
        let colour = if highlighted { HIGHLIGHT } else { BID };
        let winner = tender.bids.get(index).is_some_and(|b| b.winner);
        let (cx, cy) = (x(rank), y(price));
        let label = format!(
            "{who}: {price}{}{}",
            if winner { " (winner)" } else { "" },
            if highlighted {
                " (named in the alert)"
            } else {
                ""
            }
        );
        let _ = write!(
            svg,
            r#"<circle cx="{cx:.1}" cy="{cy:.1}" r="{radius:.1}" fill="{colour}"><title>{}</title></circle>"#,
            escape_xml(&label)
        );
        if winner {
            let _ = write!(
                svg,
                r##"<circle cx="{cx:.1}" cy="{cy:.1}" r="{:.1}" fill="none" stroke="#222222" stroke-width="1.5"/>"##,
                radius + 3.0
            );
        }
    }
    // Legend.
    let _ = write!(
        svg,
        r##"<circle cx="{}" cy="9" r="3" fill="{HIGHLIGHT}"/><text x="{}" y="12" fill="#444444">named</text><circle cx="{}" cy="9" r="4" fill="none" stroke="#222222" stroke-width="1.5"/><text x="{}" y="12" fill="#444444">winner</text>"##,
        RIGHT - 92.0,
        RIGHT - 86.0,
        RIGHT - 40.0,
        RIGHT - 33.0
    );
    svg.push_str("</svg>");
    svg
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
mod tests {
    use super::*;
    use crate::input::Bid;
    use quick_xml::events::Event;

    fn tender(prices: &[f64], estimate: Option<f64>, names: &[&str]) -> TenderBids {
        let bids = prices
            .iter()
            .enumerate()
            .map(|(i, &price)| Bid {
                bidder: names.get(i).map(|s| s.to_string()),
                price,
                winner: i == 0,
            })
            .collect();
        TenderBids::new("T<1>", estimate, bids)
    }

    /// Parses the whole document; returns element names and all unescaped text.
    fn parse(svg: &str) -> (Vec<String>, String) {
        let mut reader = quick_xml::Reader::from_str(svg);
        let mut elements = Vec::new();
        let mut text = String::new();
        let mut depth = 0i32;
        loop {
            match reader.read_event().unwrap_or_else(|e| panic!("{e}: {svg}")) {
                Event::Start(e) => {
                    depth += 1;
                    elements.push(String::from_utf8(e.name().as_ref().to_vec()).unwrap());
                    for a in e.attributes() {
                        a.unwrap().unescape_value().unwrap();
                    }
                }
                Event::Empty(e) => {
                    elements.push(String::from_utf8(e.name().as_ref().to_vec()).unwrap());
                    for a in e.attributes() {
                        a.unwrap().unescape_value().unwrap();
                    }
                }
                Event::End(_) => depth -= 1,
                Event::Text(t) => text.push_str(&t.decode().unwrap()),
                Event::GeneralRef(r) => {
                    let name = r.decode().unwrap();
                    text.push_str(match name.as_ref() {
                        "amp" => "&",
                        "lt" => "<",
                        "gt" => ">",
                        "quot" => "\"",
                        "apos" => "'",
                        other => panic!("unexpected entity {other}"),
                    });
                }
                Event::Eof => break,
                _ => {}
            }
        }
        assert_eq!(depth, 0, "unbalanced: {svg}");
        (elements, text)
    }

    #[test]
    fn a_normal_tender_has_dots_estimate_and_winner() {
        let t = tender(
            &[1_013_527.11, 1_049_310.92, 1_102_775.40, 1_187_004.66],
            Some(1_150_000.0),
            &["A", "B", "C", "D"],
        );
        let svg = price_chart_svg(&t, &["B".to_string(), "C".to_string()]);
        let (elements, text) = parse(&svg);
        assert_eq!(elements[0], "svg");
        // four bids, the winner's ring, the legend's dot and ring
        assert_eq!(elements.iter().filter(|e| *e == "circle").count(), 7);
        assert!(svg.contains("stroke-dasharray"));
        assert!(text.contains("estimate 1.15M"), "{text}");
        assert!(text.contains("A: 1013527.11 (winner)"), "{text}");
        assert!(
            text.contains("B: 1049310.92 (named in the alert)"),
            "{text}"
        );
        assert_eq!(
            svg.matches(HIGHLIGHT).count(),
            3,
            "two named bids and the legend"
        );
        assert!(text.contains("1.014M") && text.contains("1.187M"), "{text}");
    }

    #[test]
    fn hostile_names_are_escaped() {
        let evil = r#"<script>alert("x")</script> & 'q' \u{1}"#;
        let evil = evil.replace("\\u{1}", "\u{1}");
        let t = tender(&[100.0, 120.0], None, &[&evil, "ok"]);
        let svg = price_chart_svg(&t, std::slice::from_ref(&evil));
        assert!(!svg.contains("<script"), "{svg}");
        assert!(!svg.contains('\u{1}'));
        let (elements, text) = parse(&svg);
        assert!(!elements.iter().any(|e| e == "script"));
        assert!(
            text.contains(r#"<script>alert("x")</script> & 'q' "#),
            "{text}"
        );
        // the tender id is user data too
        assert!(text.contains("Tender T<1>"));
        for forbidden in ["href", "onload", "onclick", "<style", "url("] {
            assert!(!svg.contains(forbidden), "{forbidden} in {svg}");
        }
    }

    #[test]
    fn degenerate_tenders_still_give_valid_svg() {
        let cases: Vec<TenderBids> = vec![
            tender(&[], None, &[]),
            tender(&[100.0], None, &["A"]),
            tender(&[100.0, 100.0, 100.0], Some(100.0), &["A", "B", "C"]),
            tender(&[100.0, 120.0], Some(0.0), &[]),
            tender(&[0.0, -5.0], Some(f64::NAN), &[]),
            tender(&[f64::MIN_POSITIVE, f64::MAX], None, &[]),
            tender(&[1e-300, 1e-300], None, &[]),
        ];
        for t in &cases {
            let svg = price_chart_svg(t, &[]);
            parse(&svg);
            assert!(!svg.contains("NaN") && !svg.contains("inf"), "{svg}");
        }
        // A long tender id is cut in the visible title, whole in <title>.
        let mut long = cases[1].clone();
        long.tender = "X".repeat(80);
        let svg = price_chart_svg(&long, &[]);
        assert!(svg.contains(&format!("<title>Tender {}: 1 bid</title>", "X".repeat(80))));
        assert!(
            svg.contains(&format!(">Tender {}…<", "X".repeat(26))),
            "{svg}"
        );
        let (_, text) = parse(&price_chart_svg(&cases[4], &[]));
        assert!(text.contains("2 not shown"), "{text}");
        assert!(text.contains("no bid with a usable price"));
        // A bid without an id is highlighted by its position.
        let svg = price_chart_svg(&cases[3], &["#2".to_string()]);
        assert!(svg.contains("#2: 120 (named in the alert)"), "{svg}");
        assert!(!svg.contains("estimate"), "a zero estimate is not drawn");
    }

    #[test]
    fn compact_labels() {
        assert_eq!(compact(1_049_310.92), "1.049M");
        assert_eq!(compact(950.0), "950");
        assert_eq!(compact(12.345), "12.35");
        assert_eq!(compact(25_000.0), "25k");
        assert_eq!(compact(3.2e9), "3.2G");
    }
}
