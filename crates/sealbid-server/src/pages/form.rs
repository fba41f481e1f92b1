//! The tender form: what a person types, turned into `TenderTerms` with every problem found at
//! once (the "one-time notification" of the seed plan), and back into a form to correct.
use chrono::{DateTime, Duration, Utc};
use sealbid_domain::clock::china_date;
use sealbid_domain::tender::{
    Category, CommitteePolicy, EvaluationMethod, Problem, TenderCode, TenderDocument, TenderRules,
    TenderTerms,
};
use sealbid_domain::Money;
use serde::Deserialize;

use super::view;
use super::ProblemView;

/// The form's fields, exactly as typed.
#[derive(Clone, Debug, Default, Deserialize)]
#[serde(default)]
pub struct TenderForm {
    pub code: String,
    pub title: String,
    pub description: String,
    pub category: String,
    /// `on` when the checkbox is ticked; absent otherwise.
    pub mandatory: String,
    pub estimated_price: String,
    pub ceiling_price: String,
    pub bid_deposit: String,
    /// China time, as a `datetime-local` value.
    pub bid_deadline: String,
    /// China time; empty means "at the bid deadline".
    pub opening_time: String,
    pub evaluation_method: String,
    /// One criterion a line.
    pub qualification_criteria: String,
    pub committee_threshold: String,
    pub committee_members: String,
}

impl TenderForm {
    /// A blank form with sensible defaults: a project that must be tendered, a deadline three
    /// weeks out at 09:30 China time, lowest evaluated price, a 3-of-5 committee.
    pub fn blank(now: DateTime<Utc>) -> TenderForm {
        let day = china_date(now + Duration::days(21));
        let c = CommitteePolicy::default();
        TenderForm {
            category: Category::Works.as_str().to_string(),
            mandatory: "on".to_string(),
            bid_deadline: format!("{}T09:30", day.format("%Y-%m-%d")),
            evaluation_method: view::method_str(EvaluationMethod::LowestEvaluatedPrice).to_string(),
            committee_threshold: c.threshold.to_string(),
            committee_members: c.members.to_string(),
            ..TenderForm::default()
        }
    }

    /// The form showing a tender's current terms (editing a draft).
    pub fn from_terms(code: &TenderCode, t: &TenderTerms) -> TenderForm {
        TenderForm {
            code: code.as_str().to_string(),
            title: t.title.clone(),
            description: t.description.clone(),
            category: t.category.as_str().to_string(),
            mandatory: if t.mandatory {
                "on".into()
            } else {
                String::new()
            },
            estimated_price: t.estimated_price.to_string(),
            ceiling_price: t.ceiling_price.map(|m| m.to_string()).unwrap_or_default(),
            bid_deposit: t.bid_deposit.to_string(),
            bid_deadline: view::datetime_local(t.bid_deadline),
            opening_time: if t.opening_time == t.bid_deadline {
                String::new()
            } else {
                view::datetime_local(t.opening_time)
            },
            evaluation_method: view::method_str(t.evaluation_method).to_string(),
            qualification_criteria: t.qualification_criteria.join("\n"),
            committee_threshold: t.committee.threshold.to_string(),
            committee_members: t.committee.members.to_string(),
        }
    }

    pub fn is_mandatory(&self) -> bool {
        !self.mandatory.trim().is_empty()
    }
}

/// The form's outcome: the code, the terms (with placeholders where a field could not be read)
/// and every problem, in the order of the form's fields.
pub struct Parsed {
    pub code: Option<TenderCode>,
    pub terms: TenderTerms,
    pub problems: Vec<Problem>,
}

const FIELD_ORDER: [&str; 13] = [
    "code",
    "title",
    "description",
    "category",
    "estimated_price",
    "ceiling_price",
    "bid_deposit",
    "bid_deadline",
    "opening_time",
    "evaluation_method",
    "qualification_criteria",
    "committee",
    "documents",
];

fn base_field(field: &str) -> &str {
    field.split('[').next().unwrap_or(field)
}

fn field_rank(field: &str) -> usize {
    let base = base_field(field);
    FIELD_ORDER
        .iter()
        .position(|f| *f == base)
        .unwrap_or(FIELD_ORDER.len())
}

fn money(field: &str, label: &str, raw: &str) -> Result<Money, Problem> {
    let cleaned = view::clean_amount(raw);
    if cleaned.is_empty() {
        return Err(Problem::new(
            field,
            "required",
            format!("enter the {label} in yuan, e.g. 1200000"),
        ));
    }
    Money::parse(&cleaned).map_err(|e| Problem::new(field, e.code(), format!("{label}: {e}")))
}

fn instant(field: &str, label: &str, raw: &str) -> Result<DateTime<Utc>, Problem> {
    if raw.trim().is_empty() {
        return Err(Problem::new(
            field,
            "required",
            format!("enter the {label} as a date and time (China time)"),
        ));
    }
    view::parse_datetime_local(raw).ok_or_else(|| {
        Problem::new(
            field,
            "invalid_datetime",
            format!("the {label} must be a date and time such as 2026-03-02T09:30 (China time)"),
        )
    })
}

fn small_number(raw: &str) -> Option<u8> {
    raw.trim().parse::<u8>().ok()
}

/// Reads the form. `code_fixed` is the code of a tender being edited (its code cannot change).
/// The domain's `TenderTerms::problems(now, rules)` supplies the legal checks; problems of fields
/// that could not be read are not reported twice.
pub fn parse(
    form: &TenderForm,
    code_fixed: Option<&TenderCode>,
    documents: Vec<TenderDocument>,
    now: DateTime<Utc>,
    rules: &TenderRules,
) -> Parsed {
    let mut problems = Vec::new();
    let mut unread: Vec<&str> = Vec::new();

    let code = match code_fixed {
        Some(c) => Some(c.clone()),
        None => match TenderCode::parse(&form.code) {
            Ok(c) => Some(c),
            Err(p) => {
                problems.push(p);
                None
            }
        },
    };
    let category = view::parse_category(form.category.trim()).unwrap_or_else(|| {
        problems.push(Problem::new(
            "category",
            "invalid_category",
            "choose the category: works, goods or services",
        ));
        Category::Works
    });
    let mut read_money = |field: &'static str, label: &str, raw: &str, unread: &mut Vec<&str>| {
        money(field, label, raw)
            .map_err(|p| {
                problems.push(p);
                unread.push(field);
            })
            .ok()
    };
    let estimated_price = read_money(
        "estimated_price",
        "estimated price",
        &form.estimated_price,
        &mut unread,
    );
    let ceiling_price = if form.ceiling_price.trim().is_empty() {
        None
    } else {
        read_money(
            "ceiling_price",
            "ceiling price",
            &form.ceiling_price,
            &mut unread,
        )
    };
    // No deposit is a legitimate choice: an empty field means zero.
    let bid_deposit = if view::clean_amount(&form.bid_deposit).is_empty() {
        Some(Money::ZERO)
    } else {
        read_money("bid_deposit", "bid deposit", &form.bid_deposit, &mut unread)
    };
    if estimated_price.is_none() {
        // The deposit limit is a share of the estimated price: no price, no limit to check.
        unread.push("bid_deposit");
    }
    let bid_deadline = match instant("bid_deadline", "bid deadline", &form.bid_deadline) {
        Ok(t) => Some(t),
        Err(p) => {
            problems.push(p);
            unread.extend(["bid_deadline", "opening_time"]);
            None
        }
    };
    let opening_time = if form.opening_time.trim().is_empty() {
        bid_deadline
    } else {
        match instant("opening_time", "opening time", &form.opening_time) {
            Ok(t) => Some(t),
            Err(p) => {
                problems.push(p);
                unread.push("opening_time");
                None
            }
        }
    };
    let evaluation_method =
        view::parse_method(form.evaluation_method.trim()).unwrap_or_else(|| {
            problems.push(Problem::new(
                "evaluation_method",
                "invalid_evaluation_method",
                "choose the evaluation method",
            ));
            EvaluationMethod::LowestEvaluatedPrice
        });
    let committee = match (
        small_number(&form.committee_threshold),
        small_number(&form.committee_members),
    ) {
        (Some(threshold), Some(members)) => CommitteePolicy { threshold, members },
        _ => {
            problems.push(Problem::new(
                "committee",
                "invalid_committee_policy",
                "enter the opening committee as two whole numbers: the threshold t and the number of members n",
            ));
            unread.push("committee");
            CommitteePolicy::default()
        }
    };
    let qualification_criteria = form
        .qualification_criteria
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty())
        .map(str::to_string)
        .collect();

    let deadline = bid_deadline.unwrap_or(now);
    let terms = TenderTerms {
        title: form.title.trim().to_string(),
        description: form.description.trim().to_string(),
        category,
        mandatory: form.is_mandatory(),
        estimated_price: estimated_price.unwrap_or(Money::ZERO),
        ceiling_price,
        bid_deposit: bid_deposit.unwrap_or(Money::ZERO),
        documents,
        bid_deadline: deadline,
        opening_time: opening_time.unwrap_or(deadline),
        evaluation_method,
        qualification_criteria,
        committee,
    };
    problems.extend(
        terms
            .problems(now, rules)
            .into_iter()
            .filter(|p| !unread.contains(&base_field(&p.field))),
    );
    problems.sort_by_key(|p| field_rank(&p.field));
    Parsed {
        code,
        terms,
        problems,
    }
}

/// An option of a `<select>`.
#[derive(Clone, Debug)]
pub struct Opt {
    pub value: &'static str,
    pub label: &'static str,
    pub selected: bool,
}

/// What the form template shows: the typed values, the problems beside the form and marks on the
/// fields at fault, and the legal dates as hints.
pub struct FormView {
    pub f: TenderForm,
    pub mandatory: bool,
    pub categories: Vec<Opt>,
    pub methods: Vec<Opt>,
    pub problems: Vec<ProblemView>,
    bad_fields: Vec<String>,
    pub earliest_mandatory: String,
    pub earliest_other: String,
    pub max_deposit_percent: String,
    pub documents: Vec<String>,
}

impl FormView {
    pub fn new(
        f: TenderForm,
        problems: &[Problem],
        documents: &[TenderDocument],
        now: DateTime<Utc>,
        rules: &TenderRules,
    ) -> FormView {
        let categories = [Category::Works, Category::Goods, Category::Services]
            .into_iter()
            .map(|c| Opt {
                value: c.as_str(),
                label: view::category_label(c),
                selected: f.category.trim() == c.as_str(),
            })
            .collect();
        let methods = [
            EvaluationMethod::LowestEvaluatedPrice,
            EvaluationMethod::ComprehensiveScoring,
        ]
        .into_iter()
        .map(|m| Opt {
            value: view::method_str(m),
            label: view::method_label(m),
            selected: f.evaluation_method.trim() == view::method_str(m),
        })
        .collect();
        FormView {
            mandatory: f.is_mandatory(),
            categories,
            methods,
            problems: problems.iter().map(ProblemView::from_problem).collect(),
            bad_fields: problems
                .iter()
                .map(|p| base_field(&p.field).to_string())
                .collect(),
            earliest_mandatory: view::time(now + Duration::days(rules.min_bidding_days_mandatory)),
            earliest_other: view::time(now + Duration::days(rules.min_bidding_days_other)),
            max_deposit_percent: rules.max_deposit_percent.normalize().to_string(),
            documents: documents
                .iter()
                .map(|d| format!("{} ({})", d.name, view::size(d.size)))
                .collect(),
            f,
        }
    }

    /// Whether a field has a problem (the template marks it).
    pub fn bad(&self, field: &str) -> bool {
        self.bad_fields.iter().any(|f| f == field)
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    fn now() -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2026, 3, 2, 1, 0, 0).unwrap()
    }

    fn good() -> TenderForm {
        TenderForm {
            code: "QD-2026-001".into(),
            title: "Road resurfacing, Shinan district".into(),
            estimated_price: "1,000,000".into(),
            bid_deposit: "20000".into(),
            qualification_criteria: "Class II licence\n\n  Safety permit  \n".into(),
            ..TenderForm::blank(now())
        }
    }

    #[test]
    fn a_good_form_reads_without_problems() {
        let p = parse(&good(), None, Vec::new(), now(), &TenderRules::default());
        assert!(p.problems.is_empty(), "{:?}", p.problems);
        assert_eq!(p.code.unwrap().as_str(), "QD-2026-001");
        assert_eq!(p.terms.opening_time, p.terms.bid_deadline);
        assert_eq!(
            p.terms.qualification_criteria,
            vec!["Class II licence", "Safety permit"]
        );
        assert!(p.terms.mandatory);
        assert_eq!(p.terms.estimated_price.to_string(), "1000000.00");
    }

    #[test]
    fn every_problem_is_reported_once_in_form_order() {
        let f = TenderForm {
            code: "x".into(),
            title: " ".into(),
            estimated_price: "lots".into(),
            bid_deposit: "999999".into(),
            bid_deadline: "2026-03-05T09:30".into(),
            committee_threshold: "1".into(),
            ..good()
        };
        let p = parse(&f, None, Vec::new(), now(), &TenderRules::default());
        let fields: Vec<&str> = p.problems.iter().map(|p| p.field.as_str()).collect();
        // No "deposit too high" (no price to compare with), no "price must be > 0" twice.
        assert_eq!(
            fields,
            vec![
                "code",
                "title",
                "estimated_price",
                "bid_deadline",
                "committee"
            ]
        );
        let deadline = &p.problems[3];
        assert_eq!(deadline.code, "deadline_too_early");
        assert!(deadline.message.contains("earliest legal deadline"));
    }

    #[test]
    fn round_trips_through_the_form() {
        let p = parse(&good(), None, Vec::new(), now(), &TenderRules::default());
        let code = p.code.unwrap();
        let back = TenderForm::from_terms(&code, &p.terms);
        let again = parse(
            &back,
            Some(&code),
            Vec::new(),
            now(),
            &TenderRules::default(),
        );
        assert_eq!(again.terms, p.terms);
        let v = FormView::new(back, &[], &[], now(), &TenderRules::default());
        assert!(v.mandatory && !v.bad("code"));
        assert!(v
            .categories
            .iter()
            .any(|o| o.selected && o.value == "works"));
    }
}
