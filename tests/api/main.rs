//! Integration tests: every test starts the real gateway on port 0 over
//! real TLS (a throwaway CA that only the test client trusts) and talks to
//! it through a typed client. One module per resource group.

mod agentevent;
mod agentgroup;
mod audit;
mod docs_page;
mod error_bodies;
mod framework;
mod helpers;
mod huawei_clients;
mod onlineagent;
mod openapi;
mod ops;
mod postman;
mod process;
mod qualitycontrol;
mod sessions;
mod shutdown;
mod signin;
mod signout;
mod startup;
mod state;
