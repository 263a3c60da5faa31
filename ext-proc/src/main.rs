//! `parapet-ext-proc`: a thin entry point over [`parapet_ext_proc::run`].

use std::path::PathBuf;
use std::process::ExitCode;

use clap::Parser;
use parapet_ext_proc::config::ServiceConfig;

/// Parapet's native service: Envoy ext_proc and the heavy tier's Classify API.
#[derive(Parser)]
#[command(version)]
struct Args {
    /// Service config (YAML or JSON); see ext-proc/parapet-ext-proc.yaml.
    #[arg(long, short)]
    config: PathBuf,
    /// Override `listen` (gRPC address).
    #[arg(long)]
    listen: Option<std::net::SocketAddr>,
    /// Override `http_listen`.
    #[arg(long)]
    http_listen: Option<std::net::SocketAddr>,
    /// Override `policy` (a policy file in the filter's schema).
    #[arg(long)]
    policy: Option<PathBuf>,
    /// Check the config, load the policy and models, and exit.
    #[arg(long)]
    check: bool,
}

fn main() -> ExitCode {
    let args = Args::parse();
    let mut cfg = match ServiceConfig::load(&args.config) {
        Ok(c) => c,
        Err(e) => {
            eprintln!("error: {e:#}");
            return ExitCode::from(2);
        }
    };
    if let Some(l) = args.listen {
        cfg.listen = l;
    }
    if let Some(h) = args.http_listen {
        cfg.http_listen = Some(h);
    }
    if let Some(p) = args.policy {
        cfg.policy = Some(p);
    }
    if args.check {
        return match parapet_ext_proc::load(&cfg) {
            Ok(s) => {
                let guards: Vec<String> = s
                    .policies
                    .policies()
                    .iter()
                    .map(|p| format!("{}: {} guards", p.name, p.guards.len()))
                    .collect();
                println!(
                    "{}: ok ({}, heavy tier {})",
                    args.config.display(),
                    guards.join("; "),
                    if s.heavy.is_some() { "loaded" } else { "off" }
                );
                ExitCode::SUCCESS
            }
            Err(e) => {
                eprintln!("error: {e:#}");
                ExitCode::from(2)
            }
        };
    }
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(r) => r,
        Err(e) => {
            eprintln!("error: tokio runtime: {e}");
            return ExitCode::FAILURE;
        }
    };
    let served = runtime.block_on(async {
        // Logs, and traces when the config has `otlp:` (flushed when `_telemetry` drops).
        let _telemetry = parapet_ext_proc::telemetry::init(cfg.otlp.as_ref())?;
        parapet_ext_proc::run(cfg).await
    });
    match served {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e:#}");
            ExitCode::FAILURE
        }
    }
}
