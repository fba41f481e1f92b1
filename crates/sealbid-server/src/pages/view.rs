//! Formatting for people: China time, yuan with thousands separators, bilingual labels of states
//! and categories, countdowns. Pure functions, so templates only print prepared strings.
use chrono::{DateTime, NaiveDateTime, TimeZone, Utc};
use rust_decimal::Decimal;
use sealbid_domain::clock::china_tz;
use sealbid_domain::tender::{Category, EvaluationMethod, TenderState};

/// An instant as people in China read it: `2026-03-01 09:30 (UTC+8)`.
pub fn time(t: DateTime<Utc>) -> String {
    sealbid_domain::tender::china_time(t)
}

/// An instant as an ISO 8601 string for `<time datetime=…>`.
pub fn iso(t: DateTime<Utc>) -> String {
    t.to_rfc3339_opts(chrono::SecondsFormat::Secs, true)
}

/// The value of a `datetime-local` input showing `t` in China time: `2026-03-01T09:30`.
pub fn datetime_local(t: DateTime<Utc>) -> String {
    t.with_timezone(&china_tz())
        .format("%Y-%m-%dT%H:%M")
        .to_string()
}

/// Parses a `datetime-local` value (China time, minutes or seconds) into an instant.
pub fn parse_datetime_local(s: &str) -> Option<DateTime<Utc>> {
    let s = s.trim();
    let naive = ["%Y-%m-%dT%H:%M", "%Y-%m-%dT%H:%M:%S", "%Y-%m-%d %H:%M"]
        .iter()
        .find_map(|f| NaiveDateTime::parse_from_str(s, f).ok())?;
    china_tz()
        .from_local_datetime(&naive)
        .single()
        .map(|t| t.with_timezone(&Utc))
}

/// A decimal amount of yuan with two decimals and thousands separators: `¥1,234,567.00`.
pub fn yuan(amount: Decimal) -> String {
    let text = format!("{:.2}", amount.round_dp(2));
    let (sign, digits) = match text.strip_prefix('-') {
        Some(rest) => ("-", rest),
        None => ("", text.as_str()),
    };
    let (int, frac) = digits.split_once('.').unwrap_or((digits, "00"));
    let mut grouped = String::with_capacity(int.len() + int.len() / 3);
    for (i, c) in int.chars().enumerate() {
        if i > 0 && (int.len() - i) % 3 == 0 {
            grouped.push(',');
        }
        grouped.push(c);
    }
    format!("{sign}¥{grouped}.{frac}")
}

/// An amount typed by a person, cleaned for `Money::parse`: `¥ 1,200,000元` → `1200000`.
pub fn clean_amount(s: &str) -> String {
    s.trim()
        .trim_start_matches(['¥', '￥'])
        .trim_end_matches('元')
        .chars()
        .filter(|c| !matches!(c, ',' | '，' | ' ' | '_'))
        .collect()
}

/// A short countdown to `until`: `12 days 3 h left`, `3 h 20 min left`, or `None` once passed.
pub fn countdown(now: DateTime<Utc>, until: DateTime<Utc>) -> Option<String> {
    let left = until - now;
    if left <= chrono::Duration::zero() {
        return None;
    }
    let days = left.num_days();
    let hours = left.num_hours() % 24;
    let minutes = left.num_minutes() % 60;
    Some(if days > 0 {
        format!(
            "{days} day{} {hours} h left",
            if days == 1 { "" } else { "s" }
        )
    } else if hours > 0 {
        format!("{hours} h {minutes} min left")
    } else {
        format!("{} min left", minutes.max(1))
    })
}

/// How long ago `since` was, for overdue marks: `2 days 4 h`, `5 h 10 min`.
pub fn elapsed(since: DateTime<Utc>, now: DateTime<Utc>) -> String {
    let d = now - since;
    let days = d.num_days();
    let hours = d.num_hours() % 24;
    if days > 0 {
        format!("{days} day{} {hours} h", if days == 1 { "" } else { "s" })
    } else {
        format!("{hours} h {} min", d.num_minutes() % 60)
    }
}

/// Bilingual label of a tender state.
pub fn state_label(s: TenderState) -> &'static str {
    match s {
        TenderState::Draft => "Draft 草稿",
        TenderState::UnderReview => "Under review 审核中",
        TenderState::Published => "Published 招标中",
        TenderState::Closed => "Closed 已截标",
        TenderState::Opened => "Opened 已开标",
        TenderState::Evaluating => "Evaluating 评标中",
        TenderState::CandidatesPublished => "Candidates published 候选人公示",
        TenderState::Awarded => "Awarded 已定标",
        TenderState::Completed => "Completed 已完成",
        TenderState::Failed => "Failed 流标",
        TenderState::Cancelled => "Cancelled 已终止",
    }
}

pub fn category_label(c: Category) -> &'static str {
    match c {
        Category::Works => "Works 工程",
        Category::Goods => "Goods 货物",
        Category::Services => "Services 服务",
    }
}

pub fn parse_category(s: &str) -> Option<Category> {
    [Category::Works, Category::Goods, Category::Services]
        .into_iter()
        .find(|c| c.as_str() == s)
}

pub fn method_str(m: EvaluationMethod) -> &'static str {
    match m {
        EvaluationMethod::LowestEvaluatedPrice => "lowest_evaluated_price",
        EvaluationMethod::ComprehensiveScoring => "comprehensive_scoring",
    }
}

pub fn method_label(m: EvaluationMethod) -> &'static str {
    match m {
        EvaluationMethod::LowestEvaluatedPrice => "Lowest evaluated price 经评审的最低投标价法",
        EvaluationMethod::ComprehensiveScoring => "Comprehensive scoring 综合评估法",
    }
}

pub fn parse_method(s: &str) -> Option<EvaluationMethod> {
    [
        EvaluationMethod::LowestEvaluatedPrice,
        EvaluationMethod::ComprehensiveScoring,
    ]
    .into_iter()
    .find(|m| method_str(*m) == s)
}

/// Bilingual label of a timetable entry of `Tender::timetable()`.
pub fn timetable_label(key: &str) -> String {
    let zh = match key {
        "created" => "创建",
        "submitted for review" => "提交审核",
        "review due" => "审核期限",
        "published" => "发布",
        "bid deadline" => "投标截止",
        "opening" => "开标",
        "closed" => "截标",
        "opened" => "已开标",
        "ended" => "结束",
        _ => "",
    };
    let mut en = key.to_string();
    if let Some(first) = en.get(..1) {
        en = first.to_uppercase() + en.get(1..).unwrap_or("");
    }
    if zh.is_empty() {
        en
    } else {
        format!("{en} {zh}")
    }
}

/// Bilingual label of a form field named in a domain `Problem`.
pub fn field_label(field: &str) -> String {
    let base = field.split('[').next().unwrap_or(field);
    let label = match base {
        "code" => "Tender code 项目编号",
        "title" => "Title 项目名称",
        "description" => "Description 项目概况",
        "category" => "Category 类别",
        "mandatory" => "Must be tendered 依法必须招标",
        "estimated_price" => "Estimated price 估算价",
        "ceiling_price" => "Ceiling price 最高投标限价",
        "bid_deposit" => "Bid deposit 投标保证金",
        "bid_deadline" => "Bid deadline 投标截止",
        "opening_time" => "Opening time 开标时间",
        "evaluation_method" => "Evaluation method 评标办法",
        "qualification_criteria" => "Qualification criteria 资格条件",
        "committee" => "Opening committee 开标委员会",
        "documents" => "Documents 招标文件",
        "reason" => "Reason 理由",
        "problems" => "Problems 问题",
        other => other,
    };
    // `qualification_criteria[2]` names the third line.
    let index = field
        .split_once('[')
        .and_then(|(_, rest)| rest.trim_end_matches(']').parse::<usize>().ok());
    match index {
        Some(i) => format!("{label}, line {}", i + 1),
        None => label.to_string(),
    }
}

/// A message as a sentence: first letter upper case (`wrong password` → `Wrong password`).
pub fn sentence(s: &str) -> String {
    let mut chars = s.chars();
    match chars.next() {
        Some(first) => first.to_uppercase().chain(chars).collect(),
        None => String::new(),
    }
}

/// Percent-encodes a query-string value.
pub fn url_encode(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || b"-_.~".contains(&b) {
            out.push(char::from(b));
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

/// A byte count for people: `512 B`, `1.5 KB`, `12.0 MB`.
pub fn size(bytes: u64) -> String {
    const K: u64 = 1024;
    if bytes < K {
        return format!("{bytes} B");
    }
    let (unit, div) = if bytes < K * K {
        ("KB", K)
    } else if bytes < K * K * K {
        ("MB", K * K)
    } else {
        ("GB", K * K * K)
    };
    let tenths = bytes.saturating_mul(10) / div;
    format!("{}.{} {unit}", tenths / 10, tenths % 10)
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
mod tests {
    use super::*;
    use std::str::FromStr;

    #[test]
    fn yuan_groups_thousands() {
        let d = |s: &str| Decimal::from_str(s).unwrap();
        assert_eq!(yuan(d("0")), "¥0.00");
        assert_eq!(yuan(d("999.5")), "¥999.50");
        assert_eq!(yuan(d("1000")), "¥1,000.00");
        assert_eq!(yuan(d("1234567.891")), "¥1,234,567.89");
        assert_eq!(yuan(d("-12345")), "-¥12,345.00");
    }

    #[test]
    fn amounts_typed_by_people_are_cleaned() {
        assert_eq!(clean_amount("1,200,000"), "1200000");
        assert_eq!(clean_amount("¥ 1200000.50"), "1200000.50");
        assert_eq!(clean_amount("8000元"), "8000");
        assert_eq!(clean_amount(" "), "");
    }

    #[test]
    fn datetime_local_is_china_time() {
        let t = parse_datetime_local("2026-03-02T09:30").unwrap();
        assert_eq!(iso(t), "2026-03-02T01:30:00Z");
        assert_eq!(datetime_local(t), "2026-03-02T09:30");
        assert_eq!(time(t), "2026-03-02 09:30 (UTC+8)");
        assert!(parse_datetime_local("tomorrow").is_none());
        assert!(parse_datetime_local("2026-03-02T09:30:15").is_some());
    }

    #[test]
    fn countdowns_and_labels() {
        let t0 = parse_datetime_local("2026-03-02T09:30").unwrap();
        let later = |m: i64| t0 + chrono::Duration::minutes(m);
        assert_eq!(
            countdown(t0, later(60 * 24 * 3 + 125)).unwrap(),
            "3 days 2 h left"
        );
        assert_eq!(countdown(t0, later(125)).unwrap(), "2 h 5 min left");
        assert_eq!(countdown(t0, later(0)), None);
        assert_eq!(elapsed(t0, later(60 * 26)), "1 day 2 h");
        assert_eq!(timetable_label("bid deadline"), "Bid deadline 投标截止");
        assert_eq!(
            field_label("qualification_criteria[1]"),
            "Qualification criteria 资格条件, line 2"
        );
        assert_eq!(url_encode("a b&c=招"), "a%20b%26c%3D%E6%8B%9B");
        assert_eq!(size(1536), "1.5 KB");
        assert_eq!(sentence("wrong password"), "Wrong password");
        assert_eq!(sentence(""), "");
        for s in TenderState::ALL {
            assert!(!state_label(s).is_empty());
        }
    }
}
