//! AWS CodePipeline: the aws-sdk adapter behind the app's `Pipelines` port,
//! and the simulator that demo mode and tests point it at.

mod adapter;
pub mod simulator;

pub use adapter::{AwsSettings, CodePipelineAdapter};
