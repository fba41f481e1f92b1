//! The bid-document detectors end to end: real DOCX (built with the zip crate) and PDF files (built
//! with lopdf; the encrypted and corrupt ones are committed fixtures, see
//! `tests/fixtures/documents/README.md`), Chinese text, one tender with every kind of finding.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::io::Write;
use std::net::IpAddr;

use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use sealbid_screen::documents::{
    analyse, extract, BidDocuments, DocFile, DocumentSettings, ExtractError,
};

const FIXTURES: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures/documents");

const CHARS: &str = "的一是在不了有和人这中大为上个国我以要他时来用们生到作地于出就分对成会可主发年动同工也能下过子说产种面而方后多定行学法所民得经十三之进着等部度家电力里如水化高自二理起小物现实加量都两体制机当使点从业本去把性好应开它合还因由其些然前外天政四日那社义事平形相全表间样与关各重新线内数正心反你明看原又么利比或但质气第向道命此变条只没结解问意建月公无系军很情者最立代想已通并提直题党程展五果料象员革位入常文总次品式活设及管特件长求老头基资边流路级少图山统接知较将组见计别她手角期根论运农指几九区强放决西被干做必战先回则任取据处队南给色光门即保治北造百规热领七海口东导器压志世金增争济阶油思术极交受联什认六共权收证改清己美再采转更单风切打白教速花带安场身车例真务具万每目至达走积示议声报斗完类八离华名确才科张信马节话米整空元况今集温传土许步群广石记需段研界拉林律叫且究观越织装影算低持音众书布复容儿须际商非验连断深难近矿千周委素技备半办青省列习响约支般史感劳便团往酸历市克何除消构府称太准精值号率族维划选标写存候毛亲快效斯院查江型眼王按格养易置派层片始却专状育厂京识适属圆包火住调满县局照参红细引听该铁价严";

/// Seeded Chinese prose: words of 1–3 common characters, commas and full stops.
fn prose(seed: u64, chars: usize) -> String {
    let alphabet: Vec<char> = CHARS.chars().collect();
    let mut rng = StdRng::seed_from_u64(seed);
    let mut out = String::new();
    let mut n = 0;
    while n < chars {
        let len = rng.gen_range(1..=3);
        for _ in 0..len {
            out.push(alphabet[rng.gen_range(0..alphabet.len())]);
            n += 1;
        }
        match rng.gen_range(0..12) {
            0 => out.push('，'),
            1 => out.push_str("。\n"),
            _ => {}
        }
    }
    out
}

/// A DOCX with one paragraph per line, core/app properties and custom properties.
fn docx(lines: &[&str], author: &str, application: &str, custom: &[(&str, &str)]) -> Vec<u8> {
    let mut zip = zip::ZipWriter::new(std::io::Cursor::new(Vec::new()));
    let opts = zip::write::SimpleFileOptions::default()
        .compression_method(zip::CompressionMethod::Deflated);
    let esc = |s: &str| {
        s.replace('&', "&amp;")
            .replace('<', "&lt;")
            .replace('>', "&gt;")
    };
    let body: String = lines
        .iter()
        .map(|l| {
            format!(
                r#"<w:p><w:r><w:t xml:space="preserve">{}</w:t></w:r></w:p>"#,
                esc(l)
            )
        })
        .collect();
    let parts = [
        (
            "[Content_Types].xml",
            r#"<?xml version="1.0" encoding="UTF-8"?><Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types"/>"#.to_string(),
        ),
        (
            "word/document.xml",
            format!(
                r#"<?xml version="1.0" encoding="UTF-8" standalone="yes"?><w:document xmlns:w="http://schemas.openxmlformats.org/wordprocessingml/2006/main"><w:body>{body}</w:body></w:document>"#
            ),
        ),
        (
            "docProps/core.xml",
            format!(
                r#"<?xml version="1.0" encoding="UTF-8"?><cp:coreProperties xmlns:cp="http://schemas.openxmlformats.org/package/2006/metadata/core-properties" xmlns:dc="http://purl.org/dc/elements/1.1/"><dc:creator>{}</dc:creator><cp:lastModifiedBy>{}</cp:lastModifiedBy></cp:coreProperties>"#,
                esc(author),
                esc(author)
            ),
        ),
        (
            "docProps/app.xml",
            format!(
                r#"<?xml version="1.0" encoding="UTF-8"?><Properties xmlns="http://schemas.openxmlformats.org/officeDocument/2006/extended-properties"><Application>{}</Application><Company></Company></Properties>"#,
                esc(application)
            ),
        ),
        (
            "docProps/custom.xml",
            format!(
                r#"<?xml version="1.0" encoding="UTF-8"?><Properties xmlns="http://schemas.openxmlformats.org/officeDocument/2006/custom-properties" xmlns:vt="http://schemas.openxmlformats.org/officeDocument/2006/docPropsVTypes">{}</Properties>"#,
                custom
                    .iter()
                    .enumerate()
                    .map(|(i, (k, v))| format!(
                        r#"<property fmtid="{{D5CDD505-2E9C-101B-9397-08002B2CF9AE}}" pid="{}" name="{}"><vt:lpwstr>{}</vt:lpwstr></property>"#,
                        i + 2,
                        esc(k),
                        esc(v)
                    ))
                    .collect::<String>()
            ),
        ),
    ];
    for (name, content) in parts {
        zip.start_file(name, opts).unwrap();
        zip.write_all(content.as_bytes()).unwrap();
    }
    zip.finish().unwrap().into_inner()
}

/// A one-page PDF whose text is Chinese: a Type0 font with Identity-H encoding and a ToUnicode CMap
/// (how Word and WPS export CJK text), plus an Info dictionary.
fn pdf(lines: &[&str], info: &[(&str, &str)]) -> Vec<u8> {
    use lopdf::content::{Content, Operation};
    use lopdf::{dictionary, Document, Object, Stream, StringFormat};
    let mut chars: Vec<char> = lines.iter().flat_map(|l| l.chars()).collect();
    chars.sort_unstable();
    chars.dedup();
    let code = |c: char| chars.binary_search(&c).unwrap() as u16 + 1;
    let mut cmap = String::from(
        "/CIDInit /ProcSet findresource begin\n12 dict begin\nbegincmap\n/CMapName /Sealbid-UCS def\n/CMapType 2 def\n1 begincodespacerange\n<0000> <FFFF>\nendcodespacerange\n",
    );
    for chunk in chars.chunks(100) {
        cmap.push_str(&format!("{} beginbfchar\n", chunk.len()));
        for &c in chunk {
            let mut units = [0u16; 2];
            let hex: String = c
                .encode_utf16(&mut units)
                .iter()
                .map(|u| format!("{u:04X}"))
                .collect();
            cmap.push_str(&format!("<{:04X}> <{hex}>\n", code(c)));
        }
        cmap.push_str("endbfchar\n");
    }
    cmap.push_str("endcmap\nCMapName currentdict /CMap defineresource pop\nend\nend\n");

    let mut doc = Document::with_version("1.5");
    let pages_id = doc.new_object_id();
    let to_unicode = doc.add_object(Stream::new(dictionary! {}, cmap.into_bytes()));
    let cid_font = doc.add_object(dictionary! {
        "Type" => "Font",
        "Subtype" => "CIDFontType2",
        "BaseFont" => "SimSun",
        "CIDSystemInfo" => dictionary! {
            "Registry" => Object::string_literal("Adobe"),
            "Ordering" => Object::string_literal("Identity"),
            "Supplement" => 0,
        },
        "DW" => 1000,
    });
    let font = doc.add_object(dictionary! {
        "Type" => "Font",
        "Subtype" => "Type0",
        "BaseFont" => "SimSun",
        "Encoding" => "Identity-H",
        "DescendantFonts" => vec![cid_font.into()],
        "ToUnicode" => to_unicode,
    });
    let resources = doc.add_object(dictionary! { "Font" => dictionary! { "F1" => font } });
    let mut ops = vec![
        Operation::new("BT", vec![]),
        Operation::new("Tf", vec!["F1".into(), 10.into()]),
        Operation::new("TL", vec![14.into()]),
        Operation::new("Td", vec![40.into(), 800.into()]),
    ];
    for line in lines {
        let bytes: Vec<u8> = line.chars().flat_map(|c| code(c).to_be_bytes()).collect();
        ops.push(Operation::new(
            "Tj",
            vec![Object::String(bytes, StringFormat::Hexadecimal)],
        ));
        ops.push(Operation::new("T*", vec![]));
    }
    ops.push(Operation::new("ET", vec![]));
    let content = Content { operations: ops };
    let content_id = doc.add_object(Stream::new(dictionary! {}, content.encode().unwrap()));
    let page = doc.add_object(dictionary! {
        "Type" => "Page",
        "Parent" => pages_id,
        "Contents" => content_id,
    });
    doc.objects.insert(
        pages_id,
        Object::Dictionary(dictionary! {
            "Type" => "Pages",
            "Kids" => vec![page.into()],
            "Count" => 1,
            "Resources" => resources,
            "MediaBox" => vec![0.into(), 0.into(), 595.into(), 842.into()],
        }),
    );
    let catalog = doc.add_object(dictionary! { "Type" => "Catalog", "Pages" => pages_id });
    doc.trailer.set("Root", catalog);
    let mut info_dict = lopdf::Dictionary::new();
    for (k, v) in info {
        info_dict.set(*k, lopdf::text_string(v));
    }
    let info_id = doc.add_object(info_dict);
    doc.trailer.set("Info", info_id);
    doc.compress();
    let mut out = Vec::new();
    doc.save_to(&mut out).unwrap();
    out
}

fn norm(s: &str) -> String {
    s.chars().filter(|c| !c.is_whitespace()).collect()
}

#[test]
fn docx_text_and_properties() {
    let bytes = docx(
        &[
            "投标函",
            "致：某某市公共资源交易中心",
            "我方承诺工期为 180 日历天 & 质量合格。",
        ],
        "张三",
        "Microsoft Office Word",
        &[
            ("机器码", "BFEBFBFF000906EA-7C2B"),
            ("文件创建标识", "FC-2024-0091"),
        ],
    );
    let e = extract("技术标.docx", &bytes).unwrap();
    assert_eq!(
        e.text,
        "投标函\n致：某某市公共资源交易中心\n我方承诺工期为 180 日历天 & 质量合格。\n"
    );
    assert_eq!(e.metadata["author"], "张三");
    assert_eq!(e.metadata["last_modified_by"], "张三");
    assert_eq!(e.metadata["application"], "Microsoft Office Word");
    assert_eq!(e.metadata["custom:机器码"], "BFEBFBFF000906EA-7C2B");
    assert_eq!(e.metadata["custom:文件创建标识"], "FC-2024-0091");
    assert!(
        !e.metadata.contains_key("company"),
        "empty values are dropped"
    );
}

#[test]
fn docx_without_a_document_part_is_unreadable() {
    let mut zip = zip::ZipWriter::new(std::io::Cursor::new(Vec::new()));
    zip.start_file("hello.txt", zip::write::SimpleFileOptions::default())
        .unwrap();
    zip.write_all(b"hi").unwrap();
    let bytes = zip.finish().unwrap().into_inner();
    assert!(matches!(
        extract("a.docx", &bytes),
        Err(ExtractError::Unreadable { .. })
    ));
}

#[test]
fn pdf_chinese_text_layer_and_info() {
    let bytes = pdf(
        &[
            "施工组织设计",
            "本工程计划工期一百八十日历天，质量标准合格。",
        ],
        &[
            ("Author", "李四"),
            ("Creator", "WPS 文字"),
            ("Producer", "新点投标文件制作工具 V10"),
            ("机器码", "MC-88A1"),
        ],
    );
    let e = extract("技术标.pdf", &bytes).unwrap();
    assert!(
        norm(&e.text).contains("施工组织设计本工程计划工期一百八十日历天，质量标准合格。"),
        "{:?}",
        e.text
    );
    assert_eq!(e.metadata["author"], "李四");
    assert_eq!(e.metadata["creator_tool"], "WPS 文字");
    assert_eq!(e.metadata["producer"], "新点投标文件制作工具 V10");
    assert_eq!(e.metadata["custom:机器码"], "MC-88A1");
}

#[test]
fn encrypted_and_corrupt_pdfs_are_errors_not_panics() {
    let encrypted = std::fs::read(format!("{FIXTURES}/encrypted.pdf")).unwrap();
    assert_eq!(
        extract("加密.pdf", &encrypted),
        Err(ExtractError::Encrypted)
    );
    let truncated = std::fs::read(format!("{FIXTURES}/truncated.pdf")).unwrap();
    match extract("截断.pdf", &truncated) {
        Err(ExtractError::Unreadable { reason }) => assert!(reason.contains("PDF"), "{reason}"),
        other => panic!("{other:?}"),
    }
    // Every prefix of a valid PDF: an error or (partial) text, never a panic.
    let good = pdf(&["投标报价一览表"], &[]);
    for cut in (0..good.len()).step_by(97) {
        let _ = extract("x.pdf", &good[..cut]);
    }
}

/// Writes the unencrypted source of the encrypted fixture (see the fixtures README).
#[test]
#[ignore]
fn write_fixture_source() {
    let bytes = pdf(
        &["投标文件（加密）", "本文件需要密码才能打开。"],
        &[("Author", "王五")],
    );
    std::fs::write(format!("{FIXTURES}/plain.pdf"), bytes).unwrap();
}

fn bid(bidder: &str, ip: Option<&str>, device: Option<&str>, files: Vec<DocFile>) -> BidDocuments {
    BidDocuments {
        bidder: bidder.into(),
        upload_ip: ip.map(|s| s.parse::<IpAddr>().unwrap()),
        device: device.map(Into::into),
        files,
    }
}

/// Applies a few character substitutions, as a bidder disguising a copy would.
fn disguise(text: &str, every: usize) -> String {
    text.chars()
        .enumerate()
        .map(|(i, c)| {
            if i % every == every / 2 && !c.is_whitespace() {
                '某'
            } else {
                c
            }
        })
        .collect()
}

#[test]
fn one_tender_with_every_finding() {
    let template = "投标函\n致招标人：我方已仔细研究了招标文件的全部内容，愿意以投标报价承包本工程的施工、竣工和保修，工期和质量满足招标文件要求。我方承诺在投标有效期内不修改、撤销投标文件。";
    let technical_a = format!("{template}\n{}", prose(1, 3000));
    let technical_b = format!("{template}\n{}", disguise(&prose(1, 3000), 40));
    let typo = "本工程混凝土强度等级为Ｃ３０，养护时间不小于七填，模板拆除须经监理工程师签字确认";
    let technical_c = format!("{template}\n{}\n{typo}\n{}", prose(3, 1500), prose(4, 1500));
    let technical_d = format!("{template}\n{}\n{typo}\n{}", prose(5, 1500), prose(6, 1500));
    let letter = prose(7, 600);
    let commercial_b = format!("{}\n{letter}\n{}", prose(8, 2500), prose(9, 2500));
    let certificate = b"\x89PNG\r\n\x1a\n certificate scan 0042".to_vec();
    let encrypted = std::fs::read(format!("{FIXTURES}/encrypted.pdf")).unwrap();

    let bids = vec![
        bid(
            "A",
            Some("203.0.113.7"),
            Some("DEV-1"),
            vec![
                DocFile::new(
                    "技术标.docx",
                    docx(
                        &[&technical_a],
                        "张三",
                        "WPS 文字 11.1",
                        &[("机器码", "MC-77F0")],
                    ),
                ),
                DocFile::new("资质证书.png", certificate.clone()),
            ],
        ),
        bid(
            "B",
            Some("::ffff:203.0.113.7"),
            None,
            vec![
                DocFile::new(
                    "技术标.docx",
                    docx(
                        &[&technical_b],
                        "李四",
                        "WPS 文字 11.1",
                        &[("机器码", "MC-77F0")],
                    ),
                ),
                DocFile::new(
                    "商务标.pdf",
                    pdf(
                        &commercial_b.lines().collect::<Vec<_>>(),
                        &[("Author", "Administrator")],
                    ),
                ),
            ],
        ),
        bid(
            "C",
            Some("192.168.1.5"),
            None,
            vec![
                DocFile::new("技术标.txt", technical_c.into_bytes()),
                DocFile::new("营业执照.png", certificate.clone()),
            ],
        ),
        bid(
            "D",
            Some("192.168.1.5"),
            Some("DEV-1"),
            vec![
                DocFile::new("技术标.txt", encoding_gbk(&technical_d)),
                DocFile::new("承诺书.docx", docx(&[&letter], "Administrator", "", &[])),
                DocFile::new("报价.pdf", encrypted),
            ],
        ),
    ];
    let boilerplate = vec![DocFile::new("招标文件.txt", template.as_bytes().to_vec())];
    let report = analyse(
        "T-2024-001",
        &bids,
        &boilerplate,
        &DocumentSettings::default(),
    );

    // The encrypted file and the images are listed; the rest was analysed.
    let unreadable: Vec<(&str, &str, &ExtractError)> = report
        .unreadable
        .iter()
        .map(|u| (u.bidder.as_str(), u.file.as_str(), &u.reason))
        .collect();
    assert_eq!(
        unreadable,
        vec![
            ("A", "资质证书.png", &ExtractError::Unsupported),
            ("C", "营业执照.png", &ExtractError::Unsupported),
            ("D", "报价.pdf", &ExtractError::Encrypted),
        ]
    );

    let found: Vec<(String, Vec<String>)> = report
        .alerts
        .iter()
        .map(|a| (a.indicator.clone(), a.bidders.clone()))
        .collect();
    let pair = |i: &str, a: &str, b: &str| (i.to_string(), vec![a.to_string(), b.to_string()]);
    assert_eq!(
        found,
        vec![
            pair("file_inside_other_bid", "B", "D"),
            pair("identical_file", "A", "C"),
            pair("identical_metadata", "A", "B"),
            pair("near_duplicate_text", "A", "B"),
            pair("same_upload_source", "A", "B"),
            pair("same_upload_source", "A", "D"),
            pair("shared_rare_passages", "C", "D"),
        ],
        "{:#?}",
        report.alerts
    );
    let get = |i: &str, a: &str, b: &str| {
        report
            .alerts
            .iter()
            .find(|x| x.indicator == i && x.bidders == [a, b])
            .unwrap()
    };
    for a in &report.alerts {
        assert!((0.0..=1.0).contains(&a.score.value), "{a:?}");
        assert!(a.evidence.figures.values().all(|v| v.is_finite()));
        assert_eq!(a.family, sealbid_screen::Family::Documents);
        assert!(a.legal_ground.is_some());
    }

    let near = get("near_duplicate_text", "A", "B");
    assert_eq!(near.legal_ground.as_ref().unwrap().cite, "条例 40(4)");
    let jac = near.evidence.figures["jaccard"];
    assert!(jac > 0.6 && jac < 1.0, "{jac}");
    assert_eq!(near.score.value, jac);
    assert!(!near.evidence.passages.is_empty());
    let p = &near.evidence.passages[0];
    assert_eq!(
        (p.left.bidder.as_str(), p.right.bidder.as_str()),
        ("A", "B")
    );
    assert_eq!(norm(&p.left.text), norm(&p.right.text));
    assert!(p.left.text.chars().count() >= 20);
    // The offset points at the passage in the extracted text.
    let a_text = extract("技术标.docx", &bids[0].files[0].bytes)
        .unwrap()
        .text;
    let at: String = a_text
        .chars()
        .skip(p.left.offset)
        .take(p.left.text.chars().count())
        .collect();
    assert_eq!(at, p.left.text);

    let rare = get("shared_rare_passages", "C", "D");
    assert!(
        rare.evidence
            .passages
            .iter()
            .any(|p| norm(&p.left.text).contains("养护时间不小于七填")),
        "{rare:#?}"
    );
    assert!(rare.score.value > 0.1 && rare.score.value < 0.5);

    let inside = get("file_inside_other_bid", "B", "D");
    assert_eq!(inside.legal_ground.as_ref().unwrap().cite, "条例 40(5)");
    assert!(inside.evidence.facts["contained"].starts_with("D / 承诺书.docx"));
    assert!(inside.score.value >= 0.9);

    let same = get("identical_file", "A", "C");
    assert_eq!(same.score.value, 1.0);
    assert!(same.evidence.facts["file_1"].contains("资质证书.png"));

    let meta = get("identical_metadata", "A", "B");
    assert_eq!(meta.legal_ground.as_ref().unwrap().cite, "条例 40(1)");
    assert!(meta.evidence.facts.values().any(|v| v.contains("MC-77F0")));
    // Machine code 0.95; "WPS 文字 11.1" is a tool match: 1 − 0.05 · 0.8 = 0.96.
    assert!(
        (meta.score.value - 0.96).abs() < 1e-9,
        "{}",
        meta.score.value
    );

    let ab = get("same_upload_source", "A", "B");
    assert_eq!(ab.evidence.facts["upload_ip"], "203.0.113.7");
    assert_eq!(ab.legal_ground.as_ref().unwrap().cite, "条例 40(2)");
    let ad = get("same_upload_source", "A", "D");
    assert_eq!(ad.evidence.facts["device"], "DEV-1");
    assert!((ad.score.value - 0.9).abs() < 1e-9);

    // Stable: the same input gives the same report; it serialises.
    let again = analyse(
        "T-2024-001",
        &bids,
        &boilerplate,
        &DocumentSettings::default(),
    );
    assert_eq!(again, report);
    let json = serde_json::to_string(&report).unwrap();
    assert!(json.contains("near_duplicate_text"));
}

fn encoding_gbk(s: &str) -> Vec<u8> {
    // GBK-encoded text as older Chinese Windows tools write it (encoding_rs is a dependency).
    encoding_rs::GBK.encode(s).0.into_owned()
}

#[test]
fn template_text_alone_is_not_similarity() {
    let template = prose(11, 2000);
    let bids: Vec<BidDocuments> = ["甲", "乙", "丙"]
        .iter()
        .enumerate()
        .map(|(i, b)| {
            let text = format!("{template}\n{}", prose(20 + i as u64, 800));
            bid(
                b,
                None,
                None,
                vec![DocFile::new("投标函.txt", text.into_bytes())],
            )
        })
        .collect();
    let with = analyse(
        "T",
        &bids,
        &[DocFile::new("范本.txt", template.clone().into_bytes())],
        &DocumentSettings::default(),
    );
    assert!(with.alerts.is_empty(), "{:#?}", with.alerts);
    // Without the tender's documents the shared template is what it is: near-duplicate text.
    let without = analyse("T", &bids, &[], &DocumentSettings::default());
    assert!(without
        .alerts
        .iter()
        .any(|a| a.indicator == "near_duplicate_text"));
}

#[test]
fn excluded_networks_and_generic_metadata() {
    let mut settings = DocumentSettings::default();
    settings.upload.exclude_networks = vec!["203.0.113.0/24".parse().unwrap()];
    let f = |text: &str, author: &str| {
        vec![DocFile::new(
            "a.docx",
            docx(&[text], author, "Microsoft Office Word", &[]),
        )]
    };
    let bids = vec![
        bid("A", Some("203.0.113.9"), None, f("短文一", "Administrator")),
        bid(
            "B",
            Some("203.0.113.9"),
            None,
            f("短文二", "administrator "),
        ),
        bid(
            "C",
            Some("198.51.100.1"),
            None,
            f("短文三", "Administrator"),
        ),
    ];
    let report = analyse("T", &bids, &[], &settings);
    assert!(report.alerts.is_empty(), "{:#?}", report.alerts);
    assert!(report.unreadable.is_empty());
}
