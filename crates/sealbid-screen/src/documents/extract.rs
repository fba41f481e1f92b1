//! Text and metadata out of a bid file: plain text (UTF-8, UTF-16 with a BOM, GB18030/GBK), PDF (text
//! layer and Info dictionary) and DOCX (document text and the core, app and custom property parts).
//!
//! Never panics on hostile input: PDF and zip parsers run under [`std::panic::catch_unwind`], every
//! decompression is bounded, and whatever cannot be read comes back as an [`ExtractError`] that the
//! analysis lists and moves past.
//!
//! Metadata names are normalised across formats so one list of keys fits all:
//!
//! | key | DOCX | PDF Info |
//! | --- | --- | --- |
//! | `author` | `dc:creator` (core.xml) | `Author` |
//! | `last_modified_by` | `cp:lastModifiedBy` | — |
//! | `application` | `Application` (app.xml) | — |
//! | `creator_tool` | — | `Creator` |
//! | `producer` | — | `Producer` |
//! | `company`, `template` | `Company`, `Template` (app.xml) | — |
//! | `title`, `subject`, `keywords` | core.xml | `Title`, `Subject`, `Keywords` |
//! | `created`, `modified` | `dcterms:created`/`modified` | `CreationDate`, `ModDate` |
//! | `custom:NAME` | a custom property (custom.xml) | any other Info key |
//!
//! Bid-preparation tools stamp their machine code, file-creation id and dongle id as custom
//! properties, so they surface as `custom:…` keys.
use std::collections::BTreeMap;
use std::io::{Cursor, Read};
use std::panic::{catch_unwind, AssertUnwindSafe};

use quick_xml::events::Event;
use serde::{Deserialize, Serialize};

/// Upper bound on what one zip part (e.g. `word/document.xml`) may inflate to.
const MAX_PART_BYTES: u64 = 64 * 1024 * 1024;
/// Upper bound on what one PDF stream may inflate to.
const MAX_PDF_STREAM_BYTES: usize = 64 * 1024 * 1024;

/// What was read out of one file.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct Extracted {
    pub text: String,
    /// Normalised metadata keys (see the module docs) to their trimmed, non-empty values.
    pub metadata: BTreeMap<String, String>,
}

/// Why a file's text could not be read. The analysis lists these and goes on.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", tag = "kind")]
pub enum ExtractError {
    #[error("unreadable: {reason}")]
    Unreadable { reason: String },
    #[error("encrypted: the file needs a password")]
    Encrypted,
    #[error("unsupported file type")]
    Unsupported,
}

fn unreadable(reason: impl Into<String>) -> ExtractError {
    ExtractError::Unreadable {
        reason: reason.into(),
    }
}

/// The file kinds the extractor knows.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    Pdf,
    Docx,
    Text,
    /// An OLE compound file (legacy `.doc`/`.xls`, or an encrypted OOXML file).
    Compound,
    Other,
}

/// Sniffs the kind from the leading bytes, then the extension.
pub fn kind_of(name: &str, bytes: &[u8]) -> Kind {
    let ext = name
        .rsplit_once('.')
        .map(|(_, e)| e.to_ascii_lowercase())
        .unwrap_or_default();
    if bytes.starts_with(b"%PDF-") {
        return Kind::Pdf;
    }
    if ext == "pdf" {
        // A PDF may carry junk before the header (allowed up to 1024 bytes).
        return if find(&bytes[..bytes.len().min(1024)], b"%PDF-") {
            Kind::Pdf
        } else {
            Kind::Other
        };
    }
    if bytes.starts_with(&[0xD0, 0xCF, 0x11, 0xE0, 0xA1, 0xB1, 0x1A, 0xE1]) {
        return Kind::Compound;
    }
    if bytes.starts_with(b"PK\x03\x04") {
        return if matches!(ext.as_str(), "docx" | "docm" | "dotx" | "wps") || ext.is_empty() {
            Kind::Docx
        } else {
            Kind::Other
        };
    }
    match ext.as_str() {
        "txt" | "text" | "csv" | "md" | "log" | "xml" | "html" | "htm" | "json" | "" => Kind::Text,
        _ => Kind::Other,
    }
}

fn find(hay: &[u8], needle: &[u8]) -> bool {
    hay.windows(needle.len()).any(|w| w == needle)
}

/// Extracts text and metadata from one file.
pub fn extract(name: &str, bytes: &[u8]) -> Result<Extracted, ExtractError> {
    match kind_of(name, bytes) {
        Kind::Pdf => guarded("PDF", || pdf(bytes)),
        Kind::Docx => guarded("DOCX", || docx(bytes)),
        Kind::Text => text(bytes).map(|text| Extracted {
            text,
            metadata: BTreeMap::new(),
        }),
        Kind::Compound => {
            let ext = name.rsplit_once('.').map(|(_, e)| e.to_ascii_lowercase());
            if matches!(ext.as_deref(), Some("docx" | "docm" | "xlsx" | "pptx")) {
                // Office writes a password-protected OOXML file as a compound file.
                Err(ExtractError::Encrypted)
            } else {
                Err(ExtractError::Unsupported)
            }
        }
        Kind::Other => Err(ExtractError::Unsupported),
    }
}

/// Runs a parser, turning a panic inside it into [`ExtractError::Unreadable`].
fn guarded(
    what: &str,
    f: impl FnOnce() -> Result<Extracted, ExtractError>,
) -> Result<Extracted, ExtractError> {
    catch_unwind(AssertUnwindSafe(f))
        .unwrap_or_else(|_| Err(unreadable(format!("the {what} parser failed on this file"))))
}

/// Decodes a text file: a BOM decides; else UTF-8 if valid; else GB18030 (a superset of GBK and
/// GB2312) if it decodes without errors.
pub fn text(bytes: &[u8]) -> Result<String, ExtractError> {
    if let Some((enc, bom)) = encoding_rs::Encoding::for_bom(bytes) {
        let (s, had_errors) = enc.decode_without_bom_handling(&bytes[bom..]);
        return if had_errors {
            Err(unreadable(format!("invalid {} text", enc.name())))
        } else {
            Ok(s.into_owned())
        };
    }
    if bytes.contains(&0) {
        return Err(ExtractError::Unsupported);
    }
    if let Ok(s) = std::str::from_utf8(bytes) {
        return Ok(s.to_owned());
    }
    let (s, had_errors) = encoding_rs::GB18030.decode_without_bom_handling(bytes);
    if had_errors {
        Err(unreadable("neither UTF-8 nor GB18030 text"))
    } else {
        Ok(s.into_owned())
    }
}

fn pdf(bytes: &[u8]) -> Result<Extracted, ExtractError> {
    let options = lopdf::LoadOptions {
        max_decompressed_size: Some(MAX_PDF_STREAM_BYTES),
        ..lopdf::LoadOptions::default()
    };
    let doc = match lopdf::Document::load_mem_with_options(bytes, options) {
        Ok(doc) => doc,
        Err(
            lopdf::Error::InvalidPassword
            | lopdf::Error::Decryption(_)
            | lopdf::Error::AlreadyEncrypted,
        ) => return Err(ExtractError::Encrypted),
        Err(e) => return Err(unreadable(format!("PDF: {e}"))),
    };
    // lopdf opens a file whose user password is empty; one that is still encrypted needs a password.
    if doc.is_encrypted() {
        return Err(ExtractError::Encrypted);
    }
    let mut metadata = BTreeMap::new();
    if let Ok(info) = doc
        .trailer
        .get(b"Info")
        .and_then(|o| doc.dereference(o))
        .and_then(|(_, o)| o.as_dict())
    {
        for (key, value) in info.iter() {
            let Ok((_, value)) = doc.dereference(value) else {
                continue;
            };
            let value = match value {
                lopdf::Object::String(..) => lopdf::decode_text_string(value).ok(),
                lopdf::Object::Name(n) => Some(String::from_utf8_lossy(n).into_owned()),
                _ => None,
            };
            let Some(value) = value else { continue };
            let key = String::from_utf8_lossy(key);
            let key = match key.as_ref() {
                "Author" => "author".to_string(),
                "Creator" => "creator_tool".into(),
                "Producer" => "producer".into(),
                "Title" => "title".into(),
                "Subject" => "subject".into(),
                "Keywords" => "keywords".into(),
                "CreationDate" => "created".into(),
                "ModDate" => "modified".into(),
                "Trapped" => continue,
                other => format!("custom:{other}"),
            };
            insert(&mut metadata, key, &value);
        }
    }
    let pages: Vec<u32> = doc.get_pages().keys().copied().collect();
    let mut text = String::new();
    let mut failed = 0usize;
    for chunk in doc.extract_text_chunks_with_limit(&pages, MAX_PDF_STREAM_BYTES) {
        match chunk {
            Ok(t) => text.push_str(&t),
            Err(_) => failed += 1,
        }
    }
    if text.trim().is_empty() && failed > 0 {
        return Err(unreadable(format!(
            "PDF: no readable text layer ({failed} page parts failed)"
        )));
    }
    Ok(Extracted { text, metadata })
}

fn insert(metadata: &mut BTreeMap<String, String>, key: String, value: &str) {
    let value = value.trim().trim_matches('\0').trim();
    if !value.is_empty() {
        metadata.insert(key, value.to_string());
    }
}

fn docx(bytes: &[u8]) -> Result<Extracted, ExtractError> {
    let mut zip = zip::ZipArchive::new(Cursor::new(bytes))
        .map_err(|e| unreadable(format!("DOCX: not a readable zip: {e}")))?;
    let document = read_part(&mut zip, "word/document.xml")?
        .ok_or_else(|| unreadable("DOCX: no word/document.xml"))?;
    let text = docx_text(&document)?;
    let mut metadata = BTreeMap::new();
    if let Some(core) = read_part(&mut zip, "docProps/core.xml")? {
        for (name, value) in simple_elements(&core)? {
            let key = match name.as_str() {
                "creator" => "author".to_string(),
                "lastModifiedBy" => "last_modified_by".into(),
                "title" | "subject" | "keywords" | "created" | "modified" | "description" => name,
                "revision" => "revision".into(),
                _ => continue,
            };
            insert(&mut metadata, key, &value);
        }
    }
    if let Some(app) = read_part(&mut zip, "docProps/app.xml")? {
        for (name, value) in simple_elements(&app)? {
            let key = match name.as_str() {
                "Application" => "application",
                "AppVersion" => "app_version",
                "Company" => "company",
                "Template" => "template",
                "Manager" => "manager",
                _ => continue,
            };
            insert(&mut metadata, key.into(), &value);
        }
    }
    if let Some(custom) = read_part(&mut zip, "docProps/custom.xml")? {
        for (name, value) in custom_properties(&custom)? {
            insert(&mut metadata, format!("custom:{name}"), &value);
        }
    }
    Ok(Extracted { text, metadata })
}

/// Reads one zip part, bounded; `None` if absent.
fn read_part(
    zip: &mut zip::ZipArchive<Cursor<&[u8]>>,
    name: &str,
) -> Result<Option<String>, ExtractError> {
    let file = match zip.by_name(name) {
        Ok(f) => f,
        Err(zip::result::ZipError::FileNotFound) => return Ok(None),
        Err(zip::result::ZipError::UnsupportedArchive(m)) if m.contains("ncrypt") => {
            return Err(ExtractError::Encrypted)
        }
        Err(e) => return Err(unreadable(format!("DOCX: {name}: {e}"))),
    };
    if file.encrypted() {
        return Err(ExtractError::Encrypted);
    }
    let mut buf = Vec::new();
    file.take(MAX_PART_BYTES + 1)
        .read_to_end(&mut buf)
        .map_err(|e| unreadable(format!("DOCX: {name}: {e}")))?;
    if buf.len() as u64 > MAX_PART_BYTES {
        return Err(unreadable(format!("DOCX: {name} is larger than 64 MiB")));
    }
    String::from_utf8(buf)
        .map(Some)
        .map_err(|_| unreadable(format!("DOCX: {name} is not UTF-8 XML")))
}

fn xml_err(e: impl std::fmt::Display) -> ExtractError {
    unreadable(format!("DOCX: malformed XML: {e}"))
}

/// Appends the text of an entity or character reference.
fn push_ref(out: &mut String, r: &quick_xml::events::BytesRef<'_>) -> Result<(), ExtractError> {
    if let Some(c) = r.resolve_char_ref().map_err(xml_err)? {
        out.push(c);
    } else {
        let name = r.decode().map_err(xml_err)?;
        if let Some(s) = quick_xml::escape::resolve_predefined_entity(&name) {
            out.push_str(s);
        }
    }
    Ok(())
}

/// The text of `word/document.xml`: `w:t` runs, tabs and breaks; one line per paragraph.
fn docx_text(xml: &str) -> Result<String, ExtractError> {
    let mut reader = quick_xml::Reader::from_str(xml);
    let mut out = String::new();
    let mut in_text = false;
    loop {
        match reader.read_event().map_err(xml_err)? {
            Event::Start(e) if e.local_name().as_ref() == b"t" => in_text = true,
            Event::End(e) => match e.local_name().as_ref() {
                b"t" => in_text = false,
                b"p" => out.push('\n'),
                _ => {}
            },
            Event::Empty(e) | Event::Start(e) => match e.local_name().as_ref() {
                b"tab" => out.push('\t'),
                b"br" | b"cr" => out.push('\n'),
                _ => {}
            },
            Event::Text(t) if in_text => out.push_str(&t.xml_content().map_err(xml_err)?),
            Event::CData(t) if in_text => out.push_str(&t.decode().map_err(xml_err)?),
            Event::GeneralRef(r) if in_text => push_ref(&mut out, &r)?,
            Event::Eof => break,
            _ => {}
        }
    }
    Ok(out)
}

/// `(local name, text)` of the leaf elements of a property part (core.xml, app.xml).
fn simple_elements(xml: &str) -> Result<Vec<(String, String)>, ExtractError> {
    let mut reader = quick_xml::Reader::from_str(xml);
    let mut out = Vec::new();
    let mut current: Option<(String, String)> = None;
    loop {
        match reader.read_event().map_err(xml_err)? {
            Event::Start(e) => {
                let name = String::from_utf8_lossy(e.local_name().as_ref()).into_owned();
                current = Some((name, String::new()));
            }
            Event::Text(t) => {
                if let Some((_, v)) = current.as_mut() {
                    v.push_str(&t.xml_content().map_err(xml_err)?);
                }
            }
            Event::GeneralRef(r) => {
                if let Some((_, v)) = current.as_mut() {
                    push_ref(v, &r)?;
                }
            }
            Event::End(_) => {
                if let Some(leaf) = current.take() {
                    out.push(leaf);
                }
            }
            Event::Eof => break,
            _ => {}
        }
    }
    Ok(out)
}

/// `(name, value)` of each `<property name="…"><vt:…>value</vt:…></property>` in custom.xml.
fn custom_properties(xml: &str) -> Result<Vec<(String, String)>, ExtractError> {
    let mut reader = quick_xml::Reader::from_str(xml);
    let mut out = Vec::new();
    let mut current: Option<(String, String)> = None;
    loop {
        match reader.read_event().map_err(xml_err)? {
            Event::Start(e) if e.local_name().as_ref() == b"property" => {
                let name = e
                    .try_get_attribute("name")
                    .map_err(xml_err)?
                    .map(|a| a.unescape_value().map(|v| v.into_owned()))
                    .transpose()
                    .map_err(xml_err)?;
                current = name.map(|n| (n, String::new()));
            }
            Event::Text(t) => {
                if let Some((_, v)) = current.as_mut() {
                    v.push_str(&t.xml_content().map_err(xml_err)?);
                }
            }
            Event::GeneralRef(r) => {
                if let Some((_, v)) = current.as_mut() {
                    push_ref(v, &r)?;
                }
            }
            Event::End(e) if e.local_name().as_ref() == b"property" => {
                if let Some(p) = current.take() {
                    out.push(p);
                }
            }
            Event::Eof => break,
            _ => {}
        }
    }
    Ok(out)
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
mod tests {
    use super::*;

    #[test]
    fn decodes_utf8_gb18030_and_utf16() {
        let s = "投标函：本公司承诺工期为 180 日历天。";
        assert_eq!(text(s.as_bytes()).unwrap(), s);
        let (gbk, _, _) = encoding_rs::GBK.encode(s);
        assert!(std::str::from_utf8(&gbk).is_err());
        assert_eq!(text(&gbk).unwrap(), s);
        let mut utf16 = vec![0xFF, 0xFE];
        utf16.extend(s.encode_utf16().flat_map(|u| u.to_le_bytes()));
        assert_eq!(text(&utf16).unwrap(), s);
    }

    #[test]
    fn binary_and_unknown_files_are_unsupported() {
        assert_eq!(
            extract("drawing.dwg", b"AC1032\0\0\x01"),
            Err(ExtractError::Unsupported)
        );
        assert_eq!(
            extract("notes.txt", b"abc\0def"),
            Err(ExtractError::Unsupported)
        );
        assert_eq!(
            extract(
                "old.doc",
                &[0xD0, 0xCF, 0x11, 0xE0, 0xA1, 0xB1, 0x1A, 0xE1, 0]
            ),
            Err(ExtractError::Unsupported)
        );
        assert_eq!(
            extract(
                "locked.docx",
                &[0xD0, 0xCF, 0x11, 0xE0, 0xA1, 0xB1, 0x1A, 0xE1, 0]
            ),
            Err(ExtractError::Encrypted)
        );
    }

    #[test]
    fn garbage_pdf_and_zip_are_unreadable_not_panics() {
        for (name, bytes) in [
            (
                "a.pdf",
                b"%PDF-1.7\n1 0 obj << /Type /Catalog /Pages 9 0 R".as_slice(),
            ),
            ("a.pdf", b"%PDF-".as_slice()),
            ("a.docx", b"PK\x03\x04garbage".as_slice()),
        ] {
            match extract(name, bytes) {
                Err(ExtractError::Unreadable { reason }) => assert!(!reason.is_empty()),
                Ok(e) => assert!(e.text.trim().is_empty(), "{name}: {e:?}"),
                other => panic!("{name}: {other:?}"),
            }
        }
    }

    #[test]
    fn property_parts() {
        let core = r#"<?xml version="1.0"?><cp:coreProperties xmlns:cp="x" xmlns:dc="y"><dc:creator>张三 &amp; Co</dc:creator><cp:lastModifiedBy>Administrator</cp:lastModifiedBy></cp:coreProperties>"#;
        let els = simple_elements(core).unwrap();
        assert_eq!(
            els,
            vec![
                ("creator".to_string(), "张三 & Co".to_string()),
                ("lastModifiedBy".into(), "Administrator".into())
            ]
        );
        let custom = r#"<Properties xmlns:vt="v"><property fmtid="{D5CDD505}" pid="2" name="机器码"><vt:lpwstr>BFEBFBFF000906EA</vt:lpwstr></property></Properties>"#;
        assert_eq!(
            custom_properties(custom).unwrap(),
            vec![("机器码".to_string(), "BFEBFBFF000906EA".to_string())]
        );
        let body = r#"<w:document xmlns:w="w"><w:body><w:p><w:r><w:t>第一章</w:t><w:tab/><w:t xml:space="preserve"> 总则 &lt;1&gt;</w:t></w:r></w:p><w:p><w:r><w:t>工期</w:t></w:r></w:p></w:body></w:document>"#;
        assert_eq!(docx_text(body).unwrap(), "第一章\t 总则 <1>\n工期\n");
    }
}
