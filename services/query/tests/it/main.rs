//! The query API over a real listener, on a demo warehouse loaded into a fresh PostgreSQL
//! database per test (`support.rs`).

mod access;
mod health;
mod pages;
mod params;
mod people;
mod support;
