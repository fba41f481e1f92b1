//! End-to-end tests of the whole system, in one test binary: the real server over HTTP against a
//! fresh SQLite file — and, when `SEALBID_TEST_PG_URL` is set, a fresh PostgreSQL schema — and
//! the `sealbid` binary itself.
#[macro_use]
mod support;

mod api_authz;
mod api_bad_input;
mod api_documents;
mod api_lifecycle;
mod api_login_throttle;
mod api_openapi;
mod browser;
mod cli;
mod evaluation;
mod evaluation_fixture;
mod evaluation_session;
mod ocds;
mod screen_cli;
mod screening;
mod seal_cli;
mod sealing;
