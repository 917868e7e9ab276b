//! The `wharf` binary: command line, configuration, wiring, listeners, signals.
//!
//! See DESIGN.md section 6 for the command-line contract that tests and scripts rely on.

mod config;
mod console;
mod control;
mod demo;
mod edge;
mod invalidate;
mod listener;
mod local_origin;
mod log_sink;
mod malloc;
mod mfa;
mod public_access;
mod quic;
mod root;
mod server;
mod tls;
mod users;
mod website;

use std::path::PathBuf;

use anyhow::{Context, Result};
use clap::{Parser, Subcommand};

#[derive(Parser)]
#[command(
    name = "wharf",
    version,
    about = "S3-compatible object store and CloudFront-compatible CDN edge"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Run the server.
    Serve {
        /// Configuration file (default: ./wharf.toml if it exists).
        #[arg(long)]
        config: Option<PathBuf>,
        /// Data directory (default: ./wharf-data).
        #[arg(long)]
        data_dir: Option<PathBuf>,
        /// Address of the AWS API endpoint (default: 127.0.0.1:9000).
        #[arg(long)]
        api_listen: Option<String>,
        /// Address of the CDN edge (default: 127.0.0.1:8080).
        #[arg(long)]
        edge_listen: Option<String>,
        /// Address of the CDN edge over HTTPS (off unless given; needs [edge] tls_cert_file and
        /// tls_key_file).
        #[arg(long)]
        edge_tls_listen: Option<String>,
        /// Address of the console: Prometheus metrics at /metrics (default: 127.0.0.1:9001;
        /// `off`: none).
        #[arg(long)]
        console_listen: Option<String>,
        /// Address of the S3 website endpoint (off unless given, here or as [api]
        /// website_listen): buckets with a website configuration on BUCKET.s3-website.DOMAIN.
        #[arg(long)]
        website_listen: Option<String>,
        /// Create a demo bucket with a page and print how to reach it.
        #[arg(long)]
        demo: bool,
    },
    /// Create an invalidation on a running node (root credentials from WHARF_ROOT_ACCESS_KEY /
    /// WHARF_ROOT_SECRET_KEY), as `aws cloudfront create-invalidation` does.
    Invalidate {
        /// The node's AWS API endpoint, e.g. http://127.0.0.1:9000.
        #[arg(long)]
        endpoint: String,
        #[arg(long)]
        distribution_id: String,
        /// Paths such as /index.html or /images/*.
        #[arg(required = true)]
        paths: Vec<String>,
    },
    /// Manage users and their access keys.
    User {
        #[command(subcommand)]
        command: UserCommand,
    },
    /// The account's Block Public Access settings (S3 Control's PublicAccessBlock), which
    /// apply to every bucket beside the bucket's own.
    PublicAccessBlock {
        #[command(subcommand)]
        command: PublicAccessBlockCommand,
    },
    /// Manage users' virtual MFA devices (for S3's MFA delete).
    Mfa {
        #[command(subcommand)]
        command: MfaCommand,
    },
}

#[derive(Subcommand)]
enum MfaCommand {
    /// Register a virtual MFA device for a user: prints its serial, its secret, an otpauth://
    /// URI and a QR code for an authenticator app.
    Create {
        user: String,
        #[arg(long)]
        data_dir: Option<PathBuf>,
    },
}

#[derive(Subcommand)]
enum PublicAccessBlockCommand {
    /// Set the account's four flags (a flag not given is off), as
    /// `aws s3control put-public-access-block` does.
    Put {
        #[arg(long)]
        block_public_acls: bool,
        #[arg(long)]
        ignore_public_acls: bool,
        #[arg(long)]
        block_public_policy: bool,
        #[arg(long)]
        restrict_public_buckets: bool,
        #[arg(long)]
        data_dir: Option<PathBuf>,
    },
    /// Print the account's configuration (JSON, S3's field names).
    Get {
        #[arg(long)]
        data_dir: Option<PathBuf>,
    },
    /// Remove the account's configuration (buckets keep their own).
    Delete {
        #[arg(long)]
        data_dir: Option<PathBuf>,
    },
}

#[derive(Subcommand)]
enum UserCommand {
    /// Add a user with an access key (random keys unless both are given).
    Create {
        name: String,
        #[arg(long, requires = "secret_key")]
        access_key: Option<String>,
        #[arg(long, requires = "access_key")]
        secret_key: Option<String>,
        #[arg(long)]
        data_dir: Option<PathBuf>,
    },
    /// List users: name, canonical ID, access key IDs, ARN (after a line with the account).
    List {
        #[arg(long)]
        data_dir: Option<PathBuf>,
    },
    /// Delete a user and its access keys.
    Delete {
        name: String,
        #[arg(long)]
        data_dir: Option<PathBuf>,
    },
    /// A user's identity policies (IAM inline user policies).
    Policy {
        #[command(subcommand)]
        command: UserPolicyCommand,
    },
}

#[derive(Subcommand)]
enum UserPolicyCommand {
    /// Attach (or replace) the user's policy NAME from FILE (`-`: standard input), as
    /// `aws iam put-user-policy` does; the document is checked first.
    Put {
        user: String,
        name: String,
        file: PathBuf,
        #[arg(long)]
        data_dir: Option<PathBuf>,
    },
    /// Print the user's policy NAME.
    Get {
        user: String,
        name: String,
        #[arg(long)]
        data_dir: Option<PathBuf>,
    },
    /// List the names of the user's policies.
    List {
        user: String,
        #[arg(long)]
        data_dir: Option<PathBuf>,
    },
    /// Remove the user's policy NAME.
    Delete {
        user: String,
        name: String,
        #[arg(long)]
        data_dir: Option<PathBuf>,
    },
}

fn data_dir(flag: Option<PathBuf>) -> Result<PathBuf> {
    Ok(config::Config::load(config::Overrides {
        data_dir: flag,
        ..Default::default()
    })?
    .data_dir)
}

fn main() -> Result<()> {
    malloc::limit_arenas();
    // Whatever the server writes is its own: the data directory holds every secret key and
    // every object (the store also sets these modes itself; this covers the edge's cache and
    // anything else created here).
    // SAFETY: umask only sets the process's file-creation mask.
    unsafe {
        libc::umask(0o077);
    }
    tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .context("starting the runtime")?
        .block_on(run())
}

async fn run() -> Result<()> {
    tracing_subscriber::fmt()
        .with_env_filter(
            // s3s logs every client error at ERROR; wharf-s3 logs S3 answers at their level.
            tracing_subscriber::EnvFilter::try_from_env("WHARF_LOG")
                .unwrap_or_else(|_| "info,s3s=off".into()),
        )
        .with_writer(std::io::stderr)
        // Colour codes only for a person at a terminal, never into a file or a pipe.
        .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stderr()))
        .init();
    match Cli::parse().command {
        Command::Serve {
            config,
            data_dir,
            api_listen,
            edge_listen,
            edge_tls_listen,
            console_listen,
            website_listen,
            demo,
        } => {
            let cfg = config::Config::load(config::Overrides {
                config,
                data_dir,
                api_listen,
                edge_listen,
                edge_tls_listen,
                console_listen,
                website_listen,
            })?;
            server::serve(cfg, demo).await
        }
        Command::Invalidate {
            endpoint,
            distribution_id,
            paths,
        } => invalidate::run(&endpoint, &distribution_id, &paths).await,
        Command::User { command } => match command {
            UserCommand::Create {
                name,
                access_key,
                secret_key,
                data_dir: d,
            } => users::create(&data_dir(d)?, &name, access_key.zip(secret_key)).await,
            UserCommand::List { data_dir: d } => users::list(&data_dir(d)?).await,
            UserCommand::Delete { name, data_dir: d } => users::delete(&data_dir(d)?, &name).await,
            UserCommand::Policy { command } => match command {
                UserPolicyCommand::Put {
                    user,
                    name,
                    file,
                    data_dir: d,
                } => users::put_policy(&data_dir(d)?, &user, &name, &file).await,
                UserPolicyCommand::Get {
                    user,
                    name,
                    data_dir: d,
                } => users::get_policy(&data_dir(d)?, &user, &name).await,
                UserPolicyCommand::List { user, data_dir: d } => {
                    users::list_policies(&data_dir(d)?, &user).await
                }
                UserPolicyCommand::Delete {
                    user,
                    name,
                    data_dir: d,
                } => users::delete_policy(&data_dir(d)?, &user, &name).await,
            },
        },
        Command::Mfa {
            command: MfaCommand::Create { user, data_dir: d },
        } => mfa::create(&data_dir(d)?, &user).await,
        Command::PublicAccessBlock { command } => match command {
            PublicAccessBlockCommand::Put {
                block_public_acls,
                ignore_public_acls,
                block_public_policy,
                restrict_public_buckets,
                data_dir: d,
            } => {
                let block = wharf_s3::public_access::PublicAccessBlock {
                    block_public_acls,
                    ignore_public_acls,
                    block_public_policy,
                    restrict_public_buckets,
                };
                public_access::put(&data_dir(d)?, Some(block)).await
            }
            PublicAccessBlockCommand::Get { data_dir: d } => {
                public_access::get(&data_dir(d)?).await
            }
            PublicAccessBlockCommand::Delete { data_dir: d } => {
                public_access::put(&data_dir(d)?, None).await
            }
        },
    }
}
