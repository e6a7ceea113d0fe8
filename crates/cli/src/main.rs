//! The `pumphouse` command line: serve, run, validate, test, update, dtl, datasets, entities, token.
//! Library crates do the work; this file parses arguments, prints results and turns errors
//! into one clear message and a non-zero exit.

mod cmd_breaker;
mod cmd_data;
mod cmd_dtl;
mod cmd_run;
mod cmd_secrets;
mod cmd_serve;
mod cmd_test;
mod expected;
mod pyjson;

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, Subcommand};

/// mimalloc: pipe runs allocate on one thread and free on another; glibc malloc's arena locks
/// made that the top of the profile (see docs/BENCHMARKS.md).
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

/// `mi_option_purge_delay` in mimalloc 3's `mi_option_e` (include/mimalloc.h of the
/// libmimalloc-sys the lockfile pins); the crate exports no constant for it.
const MI_OPTION_PURGE_DELAY: std::ffi::c_int = 15;
/// Milliseconds mimalloc keeps freed memory before it returns it to the OS. Its default,
/// 1,000, let a 1M-entity run hold 120-124 MB resident where 100 held 87-103 MB at the same
/// speed (0 returned it at once: 69-73 MB, but 5 s more system time; docs/BENCHMARKS.md,
/// "Eighth session"). `MIMALLOC_PURGE_DELAY` in the environment still wins.
const PURGE_DELAY_MS: std::ffi::c_long = 100;

extern "C" {
    fn mi_option_set(option: std::ffi::c_int, value: std::ffi::c_long);
}

fn allocator_purge_delay() {
    if std::env::var_os("MIMALLOC_PURGE_DELAY").is_none() {
        // SAFETY: mimalloc's options are process-wide integers it reads atomically; setting
        // one is allowed at any time.
        unsafe { mi_option_set(MI_OPTION_PURGE_DELAY, PURGE_DELAY_MS) };
    }
}

#[derive(Parser)]
#[command(
    name = "pumphouse",
    version,
    about = "An integration hub that runs Sesam configurations: pipes, datasets, DTL."
)]
struct Cli {
    #[command(subcommand)]
    cmd: Cmd,
}

#[derive(Subcommand)]
enum Cmd {
    /// Run the node: the pump scheduler and Sesam's service API under /api.
    Serve {
        /// A sesam-py project folder or JSON config file, imported when it changed since the
        /// last start (config changed through the API is kept in the data folder otherwise).
        #[arg(long)]
        config: Option<PathBuf>,
        /// The data folder: store/ (datasets) and node/ (config, env, pump settings).
        #[arg(long, default_value = "pumphouse-data")]
        data: PathBuf,
        #[arg(long, default_value = "127.0.0.1:9042")]
        listen: String,
        /// HS256 signing key of the API's JWTs (required off loopback unless --token-file).
        #[arg(long)]
        jwt_key: Option<PathBuf>,
        /// Static tokens, one "<role> <token>" per line (role admin or read-only).
        #[arg(long)]
        token_file: Option<PathBuf>,
        /// Scheduled pipe runs at once.
        #[arg(long, default_value_t = 4)]
        max_concurrent: usize,
        /// Report developer_mode false (sesam-py then only allows upload/download -force).
        #[arg(long)]
        no_developer_mode: bool,
    },
    /// Print a signed JWT for `serve --jwt-key`.
    Token {
        #[arg(long)]
        key: PathBuf,
        /// admin or read-only.
        #[arg(long, default_value = "admin")]
        role: String,
        /// Seconds until the token expires (default: never).
        #[arg(long)]
        expires_in: Option<u64>,
    },
    /// Run pipes once, in dependency order, until nothing changes; print a summary per pipe.
    Run {
        /// A sesam-py project folder or a JSON file holding the config array.
        #[arg(long)]
        config: PathBuf,
        /// The store folder (created if missing).
        #[arg(long, default_value = "pumphouse-data")]
        data: PathBuf,
        /// Run only this pipe (repeatable).
        #[arg(long = "pipe")]
        pipes: Vec<String>,
        /// The env file for $ENV(...) (default: test-env.json in the project folder).
        #[arg(long)]
        env: Option<PathBuf>,
    },
    /// Check a configuration and report every problem at once.
    Validate {
        config: PathBuf,
        #[arg(long)]
        env: Option<PathBuf>,
    },
    /// Run the project in a temporary store and compare output pipes with expected/ (sesam-py test).
    Test {
        dir: PathBuf,
        #[arg(long)]
        env: Option<PathBuf>,
    },
    /// Run the project in a temporary store and write expected/ from the output (sesam-py update).
    Update {
        dir: PathBuf,
        #[arg(long)]
        env: Option<PathBuf>,
    },
    /// Evaluate DTL rules on entities and print the results as JSON.
    Dtl {
        /// A file with the rules object ({"default": [...]}) or a DTL transform.
        #[arg(long)]
        rules: PathBuf,
        /// A file with one entity or a JSON array of entities.
        #[arg(long)]
        input: PathBuf,
    },
    /// Manage secrets for $SECRET(...) in systems: values are stored encrypted in the data
    /// folder and can never be read back.
    Secrets {
        #[arg(long, default_value = "pumphouse-data")]
        data: PathBuf,
        #[command(subcommand)]
        action: SecretCmd,
    },
    /// Set a pipe's last-seen offset; an empty value makes its next run a full run.
    UpdateLastSeen {
        #[arg(long, default_value = "pumphouse-data")]
        data: PathBuf,
        pipe: String,
        #[arg(default_value = "")]
        value: String,
    },
    /// Resolve a tripped circuit breaker: `rollback` drops the versions it holds back and
    /// puts the pipe back where its run started, `commit` makes them visible, `status` shows it.
    CircuitBreaker {
        #[arg(long, default_value = "pumphouse-data")]
        data: PathBuf,
        dataset: String,
        #[arg(value_parser = ["rollback", "commit", "status"])]
        operation: String,
    },
    /// List the datasets of a store.
    Datasets {
        #[arg(long, default_value = "pumphouse-data")]
        data: PathBuf,
    },
    /// Print a dataset's entities as the JSON pull body (transit-encoded, deleted included).
    Entities {
        #[arg(long, default_value = "pumphouse-data")]
        data: PathBuf,
        dataset: String,
        /// Only versions with an offset greater than this.
        #[arg(long)]
        since: Option<u64>,
        #[arg(long)]
        limit: Option<usize>,
        /// Every version, not only the latest of each _id.
        #[arg(long)]
        history: bool,
    },
}

#[derive(Subcommand)]
enum SecretCmd {
    /// Set a secret; the value is read from stdin unless --value is given.
    Set {
        name: String,
        #[arg(long)]
        value: Option<String>,
        /// A system-local secret of this system (wins over a global one).
        #[arg(long)]
        system: Option<String>,
    },
    /// List secret names.
    List {
        #[arg(long)]
        system: Option<String>,
    },
    /// Delete a secret.
    Delete {
        name: String,
        #[arg(long)]
        system: Option<String>,
    },
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    if !matches!(cli.cmd, Cmd::Serve { .. }) {
        // Printing commands end quietly when their reader goes away (`pumphouse entities …
        // | head`), as Unix tools do, instead of panicking on a broken pipe. `serve` keeps
        // Rust's default (ignored): a client that hangs up must not kill the node.
        // SAFETY: called before any other thread exists; SIG_DFL is a valid disposition.
        unsafe {
            libc::signal(libc::SIGPIPE, libc::SIG_DFL);
        }
    }
    // No transparent huge pages for this process: the allocator's arenas were backed by
    // 2 MiB pages, each zeroed whole on its first touch and again after every purge. That
    // cost 9-13% of a large pipe run's CPU (the kernel's `clear_page_erms`) and held 25-30 MB
    // more resident memory (docs/BENCHMARKS.md, "Fifth session"). The setting is inherited by
    // microservices started from here, which lose nothing by it.
    // SAFETY: prctl with PR_SET_THP_DISABLE only sets a flag of this process.
    #[cfg(target_os = "linux")]
    unsafe {
        libc::prctl(libc::PR_SET_THP_DISABLE, 1, 0, 0, 0);
    }
    allocator_purge_delay();
    let res = match cli.cmd {
        Cmd::Serve {
            config,
            data,
            listen,
            jwt_key,
            token_file,
            max_concurrent,
            no_developer_mode,
        } => cmd_serve::serve(cmd_serve::ServeArgs {
            config,
            data,
            listen,
            jwt_key,
            token_file,
            max_concurrent,
            developer_mode: !no_developer_mode,
        }),
        Cmd::Token {
            key,
            role,
            expires_in,
        } => cmd_serve::token(&key, &role, expires_in),
        Cmd::Run {
            config,
            data,
            pipes,
            env,
        } => cmd_run::run(&config, &data, pipes, env),
        Cmd::Validate { config, env } => cmd_run::validate(&config, env),
        Cmd::Test { dir, env } => cmd_test::test(&dir, env, false),
        Cmd::Update { dir, env } => cmd_test::test(&dir, env, true),
        Cmd::Dtl { rules, input } => cmd_dtl::dtl(&rules, &input),
        Cmd::Secrets { data, action } => match action {
            SecretCmd::Set {
                name,
                value,
                system,
            } => cmd_secrets::set(&data, system.as_deref(), &name, value),
            SecretCmd::List { system } => cmd_secrets::list(&data, system.as_deref()),
            SecretCmd::Delete { name, system } => {
                cmd_secrets::delete(&data, system.as_deref(), &name)
            }
        },
        Cmd::UpdateLastSeen { data, pipe, value } => {
            cmd_secrets::update_last_seen(&data, &pipe, &value)
        }
        Cmd::Datasets { data } => cmd_data::datasets(&data),
        Cmd::CircuitBreaker {
            data,
            dataset,
            operation,
        } => cmd_breaker::circuit_breaker(&data, &dataset, &operation),
        Cmd::Entities {
            data,
            dataset,
            since,
            limit,
            history,
        } => cmd_data::entities(&data, &dataset, since, limit, history),
    };
    match res {
        Ok(code) => code,
        Err(e) => {
            eprintln!("error: {e:#}");
            ExitCode::from(2)
        }
    }
}
