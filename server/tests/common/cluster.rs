//! A private Postgres cluster for one test: its own data directory and
//! port, so the test may restart or stop it without touching anyone else's
//! database. Made with the machine's `initdb` and `pg_ctl` (run as the
//! `postgres` user when the test runs as root, which initdb refuses).

use std::path::{Path, PathBuf};
use std::process::Command;

pub struct Cluster {
    dir: PathBuf,
    bin: PathBuf,
    pub port: u16,
}

/// The newest installed PostgreSQL's programs.
fn bin_dir() -> PathBuf {
    if let Ok(dir) = std::env::var("GATEHOUSE_PG_BIN") {
        return PathBuf::from(dir);
    }
    let mut versions: Vec<u32> = std::fs::read_dir("/usr/lib/postgresql")
        .expect("PostgreSQL's programs in /usr/lib/postgresql (or set GATEHOUSE_PG_BIN)")
        .filter_map(|e| e.ok()?.file_name().to_str()?.parse().ok())
        .collect();
    versions.sort_unstable();
    let newest = versions.last().expect("an installed PostgreSQL version");
    PathBuf::from(format!("/usr/lib/postgresql/{newest}/bin"))
}

fn as_root() -> bool {
    Command::new("id")
        .arg("-u")
        .output()
        .is_ok_and(|o| o.stdout.starts_with(b"0\n"))
}

impl Cluster {
    fn run(&self, program: &str, args: &[&str]) -> std::process::Output {
        run_as_owner(&self.bin.join(program), args)
    }

    /// Makes and starts a cluster on a free port.
    pub fn start() -> Cluster {
        let dir = std::env::temp_dir().join(format!(
            "gatehouse-cluster-{}-{}",
            std::process::id(),
            uuid::Uuid::new_v4().simple()
        ));
        std::fs::create_dir_all(&dir).expect("cluster directory");
        if as_root() {
            let status = Command::new("chown")
                .args(["-R", "postgres:postgres"])
                .arg(&dir)
                .status()
                .expect("chown");
            assert!(status.success(), "chown the cluster directory");
        }
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .and_then(|l| l.local_addr())
            .expect("a free port")
            .port();
        let cluster = Cluster {
            dir,
            bin: bin_dir(),
            port,
        };
        let data = cluster.data();
        let out = cluster.run(
            "initdb",
            &[
                "-D",
                path(&data),
                "-U",
                "postgres",
                "--auth=trust",
                "-E",
                "UTF8",
                "--no-sync",
            ],
        );
        assert!(
            out.status.success(),
            "initdb: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        cluster.start_again();
        cluster
    }

    fn data(&self) -> PathBuf {
        self.dir.join("data")
    }

    pub fn url(&self) -> String {
        format!("postgres://postgres@127.0.0.1:{}/postgres", self.port)
    }

    pub fn log(&self) -> String {
        std::fs::read_to_string(self.dir.join("postgres.log")).unwrap_or_default()
    }

    /// `pg_ctl stop -m <mode>` (`fast` or `immediate`: a crash).
    pub fn stop(&self, mode: &str) {
        let data = self.data();
        let out = self.run("pg_ctl", &["-D", path(&data), "-m", mode, "-w", "stop"]);
        assert!(out.status.success(), "pg_ctl stop: {}", self.log());
    }

    /// Starts the stopped cluster again (with the options it last ran
    /// with), waiting until it accepts connections.
    pub fn start_again(&self) {
        let data = self.data();
        let log = self.dir.join("postgres.log");
        let options = format!(
            "-p {} -k {} -c listen_addresses=127.0.0.1 -c fsync=off -c max_connections=50",
            self.port,
            self.dir.display()
        );
        // With its log file: a postmaster writing to our pipe would keep it
        // open after pg_ctl returns.
        let out = self.run(
            "pg_ctl",
            &[
                "-D",
                path(&data),
                "-o",
                &options,
                "-l",
                path(&log),
                "-w",
                "start",
            ],
        );
        assert!(out.status.success(), "pg_ctl start: {}", self.log());
    }
}

impl Drop for Cluster {
    fn drop(&mut self) {
        let data = self.data();
        let _ = self.run(
            "pg_ctl",
            &["-D", path(&data), "-m", "immediate", "-w", "stop"],
        );
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

fn path(p: &Path) -> &str {
    p.to_str().expect("a UTF-8 path")
}

fn run_as_owner(program: &Path, args: &[&str]) -> std::process::Output {
    let mut command = if as_root() {
        let mut c = Command::new("runuser");
        c.args(["-u", "postgres", "--"]).arg(program);
        c
    } else {
        Command::new(program)
    };
    command
        .args(args)
        .output()
        .expect("run a PostgreSQL program")
}
