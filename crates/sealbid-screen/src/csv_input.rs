//! Reads one-row-per-bid CSV into tenders. Two header styles are understood (case and surrounding
//! spaces ignored): the shared research files' `Tender`, `Competitors`, `Bid_value`, `Winner`,
//! `Pre-Tender Estimate (PTE)`, and the plain `tender`, `bidder`, `price`, `estimate`, `winner`. Only
//! the tender and price columns are required; every other column (labels, precomputed screens) is
//! ignored. The delimiter (`,`, `;` or tab) is taken from the header line; fields may be quoted.
//!
//! Malformed lines do not stop the reader: each is reported with its line number in
//! [`CsvOutcome::errors`] and left out, and the caller chooses to go on ([`CsvOutcome::lenient`]) or to
//! refuse the file ([`CsvOutcome::strict`]). The input is read from any `Read` (never a path).
use std::collections::HashMap;
use std::io::Read;

use serde::Serialize;

use crate::error::ScreenError;
use crate::input::{Bid, TenderBids};

/// A line that could not be used.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct LineError {
    /// 1-based line number in the input (the header is line 1).
    pub line: u64,
    pub message: String,
}

/// What the reader made of the input.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct CsvOutcome {
    /// Tenders in order of first appearance; bids in input order.
    pub tenders: Vec<TenderBids>,
    pub errors: Vec<LineError>,
}

impl CsvOutcome {
    /// The tenders, or an error naming the first malformed line if there was any.
    pub fn strict(self) -> Result<Vec<TenderBids>, ScreenError> {
        match self.errors.first() {
            None => Ok(self.tenders),
            Some(first) => Err(ScreenError::MalformedLines {
                count: self.errors.len(),
                first_line: first.line,
                first_message: first.message.clone(),
            }),
        }
    }

    /// The tenders from the good lines, and the bad lines for the caller to report.
    pub fn lenient(self) -> (Vec<TenderBids>, Vec<LineError>) {
        (self.tenders, self.errors)
    }
}

const TENDER: &[&str] = &["tender"];
const BIDDER: &[&str] = &["competitors", "bidder"];
const PRICE: &[&str] = &["bid_value", "price"];
const ESTIMATE: &[&str] = &["pre-tender estimate (pte)", "estimate"];
const WINNER: &[&str] = &["winner"];

struct Columns {
    tender: usize,
    price: usize,
    bidder: Option<usize>,
    estimate: Option<usize>,
    winner: Option<usize>,
}

impl Columns {
    fn from_header(header: &csv::StringRecord) -> Result<Self, ScreenError> {
        let find = |names: &[&str]| {
            names
                .iter()
                .find_map(|n| header.iter().position(|h| h.trim().eq_ignore_ascii_case(n)))
        };
        Ok(Self {
            tender: find(TENDER).ok_or(ScreenError::MissingColumn("tender", "Tender, tender"))?,
            price: find(PRICE).ok_or(ScreenError::MissingColumn("price", "Bid_value, price"))?,
            bidder: find(BIDDER),
            estimate: find(ESTIMATE),
            winner: find(WINNER),
        })
    }
}

/// The delimiter that occurs most often outside quotes on the first line; `,` if none does.
fn sniff_delimiter(data: &[u8]) -> u8 {
    let first_line = data.split(|&b| b == b'\n').next().unwrap_or_default();
    let mut counts = [(b',', 0usize), (b';', 0), (b'\t', 0)];
    let mut quoted = false;
    for &b in first_line {
        if b == b'"' {
            quoted = !quoted;
        } else if !quoted {
            for c in counts.iter_mut().filter(|c| c.0 == b) {
                c.1 += 1;
            }
        }
    }
    counts
        .iter()
        .filter(|c| c.1 > 0)
        .max_by_key(|c| c.1)
        .map_or(b',', |c| c.0)
}

/// Line numbers from byte offsets. `csv::Position::line` is off by one for the first record after a
/// blank line (rust-csv issue #208, open), so we count newlines ourselves; a record's reported start
/// may sit on the blank line before it, hence the skip over line terminators.
struct LineIndex<'a> {
    data: &'a [u8],
    newlines: Vec<usize>,
}

impl<'a> LineIndex<'a> {
    fn new(data: &'a [u8]) -> Self {
        let newlines = data
            .iter()
            .enumerate()
            .filter(|(_, &b)| b == b'\n')
            .map(|(i, _)| i)
            .collect();
        Self { data, newlines }
    }

    /// 1-based line of the first non-terminator byte at or after `byte`.
    fn line_at(&self, byte: u64) -> u64 {
        let mut at = usize::try_from(byte)
            .unwrap_or(usize::MAX)
            .min(self.data.len());
        while matches!(self.data.get(at), Some(b'\r' | b'\n')) {
            at += 1;
        }
        self.newlines.partition_point(|&nl| nl < at) as u64 + 1
    }
}

/// A number, accepting a decimal comma in `;`-separated files (`1234,56`).
fn parse_number(field: &str, delimiter: u8) -> Option<f64> {
    let f = field.trim();
    let v = f.parse::<f64>().ok().or_else(|| {
        (delimiter != b',' && f.matches(',').count() == 1 && !f.contains('.'))
            .then(|| f.replace(',', ".").parse::<f64>().ok())
            .flatten()
    })?;
    v.is_finite().then_some(v)
}

fn parse_winner(field: &str) -> Option<bool> {
    match field.trim().to_ascii_lowercase().as_str() {
        "" | "0" | "0.0" | "false" | "no" | "n" => Some(false),
        "1" | "1.0" | "true" | "yes" | "y" => Some(true),
        _ => None,
    }
}

struct Row {
    tender: String,
    estimate: Option<f64>,
    bid: Bid,
}

fn parse_row(rec: &csv::StringRecord, cols: &Columns, delimiter: u8) -> Result<Row, String> {
    let field = |i: usize| rec.get(i).map(str::trim);
    let tender = field(cols.tender)
        .filter(|s| !s.is_empty())
        .ok_or("tender is empty or missing")?;
    let price_field = field(cols.price).ok_or("price is missing")?;
    let price = parse_number(price_field, delimiter)
        .ok_or_else(|| format!("price {price_field:?} is not a number"))?;
    let bidder = cols
        .bidder
        .and_then(field)
        .filter(|s| !s.is_empty())
        .map(str::to_owned);
    let estimate = match cols.estimate.and_then(field) {
        None | Some("") => None,
        Some(e) => Some(
            parse_number(e, delimiter).ok_or_else(|| format!("estimate {e:?} is not a number"))?,
        ),
    };
    let winner = match cols.winner.and_then(field) {
        None => false,
        Some(w) => parse_winner(w).ok_or_else(|| format!("winner {w:?} is not 0/1"))?,
    };
    let bid = Bid::from_f64(bidder, price, winner).map_err(|e| e.to_string())?;
    Ok(Row {
        tender: tender.to_owned(),
        estimate,
        bid,
    })
}

/// Reads the whole input (the files are one row per bid; a market of 100,000 tenders is tens of MB),
/// strips a UTF-8 byte-order mark, sniffs the delimiter and groups the rows by tender.
pub fn read_csv<R: Read>(mut reader: R) -> Result<CsvOutcome, ScreenError> {
    let mut data = Vec::new();
    reader
        .read_to_end(&mut data)
        .map_err(|e| ScreenError::CsvUnreadable(e.to_string()))?;
    let data = data.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(&data);
    let delimiter = sniff_delimiter(data);
    let mut rdr = csv::ReaderBuilder::new()
        .delimiter(delimiter)
        .flexible(true)
        .has_headers(true)
        .from_reader(data);
    let header = rdr
        .headers()
        .map_err(|e| ScreenError::CsvUnreadable(e.to_string()))?
        .clone();
    let cols = Columns::from_header(&header)?;

    let lines = LineIndex::new(data);
    let mut out = CsvOutcome::default();
    let mut index: HashMap<String, usize> = HashMap::new();
    let mut record = csv::StringRecord::new();
    let mut next_line = 2u64;
    loop {
        let line = next_line;
        match rdr.read_record(&mut record) {
            Ok(false) => break,
            Ok(true) => {
                let line = record.position().map_or(line, |p| lines.line_at(p.byte()));
                next_line = line + 1;
                if record.iter().all(|f| f.trim().is_empty()) {
                    continue;
                }
                let row = match parse_row(&record, &cols, delimiter) {
                    Ok(row) => row,
                    Err(message) => {
                        out.errors.push(LineError { line, message });
                        continue;
                    }
                };
                match index.get(&row.tender).and_then(|&i| out.tenders.get_mut(i)) {
                    Some(t) => {
                        match (t.estimate, row.estimate) {
                            (Some(a), Some(b)) if a != b => {
                                out.errors.push(LineError {
                                    line,
                                    message: format!(
                                        "estimate {b} differs from {a} on earlier rows of tender {}",
                                        row.tender
                                    ),
                                });
                                continue;
                            }
                            (None, Some(b)) => t.estimate = Some(b),
                            _ => {}
                        }
                        t.bids.push(row.bid);
                    }
                    None => {
                        index.insert(row.tender.clone(), out.tenders.len());
                        out.tenders
                            .push(TenderBids::new(row.tender, row.estimate, vec![row.bid]));
                    }
                }
            }
            Err(e) => {
                let line = e.position().map_or(line, |p| lines.line_at(p.byte()));
                next_line = line + 1;
                match e.kind() {
                    // Not a line's fault: stop rather than loop on a broken reader.
                    csv::ErrorKind::Io(_) => return Err(ScreenError::CsvUnreadable(e.to_string())),
                    _ => out.errors.push(LineError {
                        line,
                        message: e.to_string(),
                    }),
                }
            }
        }
    }
    Ok(out)
}

/// [`read_csv`] over a string.
pub fn read_csv_str(text: &str) -> Result<CsvOutcome, ScreenError> {
    read_csv(text.as_bytes())
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
mod tests {
    use super::*;

    #[test]
    fn research_header_with_extra_columns() {
        let text = "\
Tender,Bid,Competitors,Bid_value,Collusive_competitor,Pre-Tender Estimate (PTE),Winner,CV
1,1,216,107807690.49,0,100869169.08,1.0,0.2363
1,2,210,116619983.74,0,100869169.08,0.0,0.2363
2,1,76,129950000.0,1,,0.0,0.1
";
        let out = read_csv_str(text).unwrap();
        assert!(out.errors.is_empty(), "{:?}", out.errors);
        assert_eq!(out.tenders.len(), 2);
        let t = &out.tenders[0];
        assert_eq!(t.tender, "1");
        assert_eq!(t.estimate, Some(100_869_169.08));
        assert_eq!(t.bids.len(), 2);
        assert_eq!(t.bids[0].bidder.as_deref(), Some("216"));
        assert_eq!(t.bids[0].price, 107_807_690.49);
        assert!(t.bids[0].winner && !t.bids[1].winner);
        assert_eq!(out.tenders[1].estimate, None);
    }

    #[test]
    fn plain_header_semicolons_quotes_and_decimal_commas() {
        let text = "\
tender;bidder;price;estimate;winner
\"T-1\";\"Acme; Ltd\";\"1234,50\";2000;1
T-1;Beta;1300.25;2000;0
";
        let out = read_csv_str(text).unwrap();
        assert!(out.errors.is_empty(), "{:?}", out.errors);
        let t = &out.tenders[0];
        assert_eq!(t.tender, "T-1");
        assert_eq!(t.bids[0].bidder.as_deref(), Some("Acme; Ltd"));
        assert_eq!(t.bids[0].price, 1234.5);
        assert_eq!(t.bids[1].price, 1300.25);
        assert_eq!(t.estimate, Some(2000.0));
    }

    #[test]
    fn optional_columns_may_be_absent_and_tenders_interleave() {
        // The Swiss file has neither bidder ids nor an estimate.
        let text = "Bid_value,Collusive_competitor,Tender\n10,1,a\n20,1,b\n30,1,a\n";
        let out = read_csv_str(text).unwrap();
        assert_eq!(out.tenders.len(), 2);
        assert_eq!(out.tenders[0].bids.len(), 2);
        assert_eq!(out.tenders[0].bids[1].price, 30.0);
        assert!(out.tenders[0]
            .bids
            .iter()
            .all(|b| b.bidder.is_none() && !b.winner));
    }

    #[test]
    fn bad_lines_are_reported_with_line_numbers() {
        let text = "\
tender,bidder,price,estimate,winner
T1,A,100,,0
T1,B,abc,,0
,C,100,,0
T1,D,NaN,,0
T1,E,105,,maybe
T1,F,101,,1

T2,G
T1,H,102,500,0
T1,I,103,600,0
";
        let out = read_csv_str(text).unwrap();
        let lines: Vec<u64> = out.errors.iter().map(|e| e.line).collect();
        // line 8 is blank and skipped silently (and does not shift the numbers after it, unlike
        // csv's own Position::line); line 9 lacks the price; line 11 contradicts the estimate taken
        // from line 10
        assert_eq!(lines, [3, 4, 5, 6, 9, 11], "{:#?}", out.errors);
        assert!(out.errors[0].message.contains("abc"));
        let (tenders, errors) = out.clone().lenient();
        assert_eq!(errors.len(), 6);
        let prices: Vec<f64> = tenders[0].bids.iter().map(|b| b.price).collect();
        assert_eq!(prices, [100.0, 101.0, 102.0]);
        assert_eq!(tenders[0].estimate, Some(500.0));
        let err = out.strict().unwrap_err();
        assert_eq!(err.code(), "SCR0005MalformedLines");
        assert!(err.to_string().contains("line 3"));
    }

    #[test]
    fn missing_required_column_is_an_error() {
        let err = read_csv_str("tender,bidder,amount\nT1,A,100\n").unwrap_err();
        assert_eq!(err.code(), "SCR0003MissingColumn");
        assert!(read_csv_str("bidder,price\nA,100\n").is_err());
    }

    #[test]
    fn byte_order_mark_and_crlf() {
        let text = "\u{feff}Tender,Bid_value\r\n7,10.5\r\n7,11\r\n";
        let out = read_csv_str(text).unwrap();
        assert!(out.errors.is_empty());
        assert_eq!(out.tenders[0].tender, "7");
        assert_eq!(out.tenders[0].bids.len(), 2);
    }

    #[test]
    fn invalid_utf8_is_a_line_error() {
        let mut bytes = b"tender,bidder,price\nT1,A,100\nT1,".to_vec();
        bytes.extend([0xff, 0xfe]);
        bytes.extend(b",101\nT1,C,102\n");
        let out = read_csv(&bytes[..]).unwrap();
        assert_eq!(out.errors.len(), 1);
        assert_eq!(out.errors[0].line, 3);
        assert_eq!(out.tenders[0].bids.len(), 2);
    }
}
