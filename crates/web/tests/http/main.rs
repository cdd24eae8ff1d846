//! Integration tests: the real server on 127.0.0.1:0 with a fresh database and the demo city,
//! driven over HTTP like a browser or a bank's system would.

mod helpers;

mod access;
mod admin;
mod api;
mod audit;
mod auth;
mod browser;
mod catalog;
mod cluster;
mod crawl;
mod engines;
mod hardening;
mod labor;
mod object_access;
mod org;
mod services;
mod services_law;
mod supervision;
mod supervision_law;
mod talent;
mod wages;
mod wages_people;
mod workflow;
