//! Regenerates `contracts/` from the domain's event types: `cargo run -p contracts --bin
//! generate-contracts`. Run it after adding an event type or version, and commit the result.

fn main() -> std::io::Result<()> {
    let dir = contracts::contracts_dir();
    contracts::write(&dir)?;
    println!("wrote the contracts under {}", dir.display());
    Ok(())
}
