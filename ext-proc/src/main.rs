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
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_env("PARAPET_LOG")
                .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info")),
        )
        .with_target(false)
        // Colour only on a terminal: logs collected from files stay plain text.
        .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stdout()))
        .init();
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
    match runtime.block_on(parapet_ext_proc::run(cfg)) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e:#}");
            ExitCode::FAILURE
        }
    }
}
