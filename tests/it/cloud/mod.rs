//! The cloud client over real HTTP, against local stand-ins on 127.0.0.1.

mod credentials;
mod errors;
mod oidc_ini;
mod paging;
mod retries;
mod secrets;
mod seeds;
mod signing;
