//! Demo mode and the simulators it (and the tests) point the real clients
//! at over HTTP: CodePipeline (checked against botocore's model), GitHub
//! (the REST endpoints octocrab calls, and the pages demo links open), and
//! health URLs. `demo` seeds the org, the people and the pipelines.

pub mod codepipeline;
pub mod demo;
pub mod github;
pub mod health;
