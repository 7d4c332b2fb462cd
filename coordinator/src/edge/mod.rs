//! What faces the network: the gRPC services ([`grpc`]), the HTTP
//! listener with `/metrics`, health and the web view ([`http`], [`web`]),
//! bearer tokens ([`auth`]) and whose they are ([`actor`]) and TLS ([`tls`]). Nothing here changes state:
//! requests become commands for the core.

pub mod actor;
pub mod auth;
pub mod grpc;
pub mod http;
mod http_tls;
pub mod tls;
pub mod web;
