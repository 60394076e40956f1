//! `projection-bench`: reads its options, runs the benchmark, prints the figures.
//!
//! ```text
//! projection-bench [--events N] [--baseline-events M] [--batch B] [--page P] [--seed S]
//!                  [--server postgres://user@host:port] [--keep]
//! ```

use projection_bench::{run, Config};

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let config = Config::from_args(std::env::args().skip(1))?;
    let report = run(&config).await?;
    println!("{report}");
    Ok(())
}
