//! [`ScratchDb`]: a fresh PostgreSQL database per test, dropped when the test ends, passed or
//! failed, so tests run in parallel and again and again against the real server.

use sqlx::{Connection, PgConnection};

/// The server tests use: `PARCELPORT_TEST_POSTGRES`, else the local one (trust auth).
pub fn postgres_server() -> String {
    std::env::var("PARCELPORT_TEST_POSTGRES")
        .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432".to_owned())
}

/// A database of its own, `pp_<prefix>_<uuid>`, dropped (with its connections) on drop.
#[derive(Debug)]
pub struct ScratchDb {
    name: String,
    url: String,
}

impl ScratchDb {
    /// Creates a fresh database named after `prefix` (`pp_<prefix>_<uuid>`).
    pub async fn create(prefix: &str) -> ScratchDb {
        let name = format!("pp_{prefix}_{}", uuid::Uuid::new_v4().simple());
        let server = postgres_server();
        let mut admin = PgConnection::connect(&format!("{server}/postgres"))
            .await
            .unwrap_or_else(|e| panic!("connect to {server}: {e}"));
        sqlx::query(&format!(r#"CREATE DATABASE "{name}" TEMPLATE template0"#))
            .execute(&mut admin)
            .await
            .unwrap_or_else(|e| panic!("create database {name}: {e}"));
        let _ = admin.close().await;
        let url = format!("{server}/{name}");
        ScratchDb { name, url }
    }

    /// Its name.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// Its URL.
    pub fn url(&self) -> &str {
        &self.url
    }
}

impl Drop for ScratchDb {
    fn drop(&mut self) {
        let name = self.name.clone();
        // A drop cannot await: drop the database from a thread with its own runtime.
        let dropped = std::thread::spawn(move || {
            let runtime = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .expect("a runtime to drop the test database");
            runtime.block_on(async {
                let mut admin =
                    PgConnection::connect(&format!("{}/postgres", postgres_server())).await?;
                sqlx::query(&format!(r#"DROP DATABASE IF EXISTS "{name}" WITH (FORCE)"#))
                    .execute(&mut admin)
                    .await
            })
        })
        .join();
        if !matches!(dropped, Ok(Ok(_))) {
            eprintln!("could not drop test database {}", self.name);
        }
    }
}
