//! The hostile suite: one test per rule of the admission policy. Each sends a message that tries what the
//! rule forbids and checks that it lands in the dead-letter queue with the rule named, that no revision
//! was registered, that the service is untouched, and that a good message afterwards still deploys. With
//! no setting given, everything under "The guard" in docs/security.md is refused.

mod common;

use common::hostile::{Hostile, changed, container, refused, refused_as};
use serde_json::json;

#[tokio::test(flavor = "multi_thread")]
async fn another_task_role() {
    let body = changed(json!({"taskRoleArn": "arn:aws:iam::123456789012:role/admin"}));
    refused(Hostile::new(
        body,
        "task_role",
        &["taskRoleArn", "ALLOWED_TASK_ROLES"],
    ))
    .await;
}

#[tokio::test(flavor = "multi_thread")]
async fn another_execution_role() {
    let body = changed(json!({"executionRoleArn": "arn:aws:iam::123456789012:role/admin"}));
    refused(Hostile::new(
        body,
        "execution_role",
        &["executionRoleArn", "ALLOWED_EXECUTION_ROLES"],
    ))
    .await;
}

#[tokio::test(flavor = "multi_thread")]
async fn the_workers_own_role() {
    // Even where every task role is allowed.
    let body =
        changed(json!({"taskRoleArn": "arn:aws:iam::123456789012:role/ecs-deployment-worker"}));
    let case = Hostile::new(
        body,
        "own_role",
        &[
            "taskRoleArn",
            "the role the worker runs as",
            "no setting allows this",
        ],
    )
    .with_config(&[("ALLOWED_TASK_ROLES", "*")]);
    refused_as(case, Some("ecs-deployment-worker")).await;
}

#[tokio::test(flavor = "multi_thread")]
async fn a_privileged_container() {
    let body = container(json!({"privileged": true}));
    refused(Hostile::new(
        body,
        "privileged",
        &["containerDefinitions[0].privileged", "ALLOWED_PRIVILEGES"],
    ))
    .await;
}

#[tokio::test(flavor = "multi_thread")]
async fn host_networking() {
    let body = changed(json!({"networkMode": "host"}));
    refused(Hostile::new(
        body,
        "network_mode",
        &["networkMode", "ALLOWED_PRIVILEGES=network_mode"],
    ))
    .await;
}

#[tokio::test(flavor = "multi_thread")]
async fn the_hosts_process_namespace() {
    let body = changed(json!({"pidMode": "host"}));
    refused(Hostile::new(
        body,
        "pid_mode",
        &["pidMode", "ALLOWED_PRIVILEGES=pid_mode"],
    ))
    .await;
}

#[tokio::test(flavor = "multi_thread")]
async fn the_hosts_ipc_namespace() {
    let body = changed(json!({"ipcMode": "host"}));
    refused(Hostile::new(
        body,
        "ipc_mode",
        &["ipcMode", "ALLOWED_PRIVILEGES=ipc_mode"],
    ))
    .await;
}

#[tokio::test(flavor = "multi_thread")]
async fn a_host_volume() {
    let body = changed(json!({"volumes": [{"name": "root", "host": {"sourcePath": "/"}}]}));
    refused(Hostile::new(
        body,
        "host_volumes",
        &["volumes[0].host.sourcePath", "ALLOWED_PRIVILEGES"],
    ))
    .await;
}

#[tokio::test(flavor = "multi_thread")]
async fn a_host_device() {
    let body = container(json!({"linuxParameters": {"devices": [{"hostPath": "/dev/mem"}]}}));
    refused(Hostile::new(
        body,
        "devices",
        &[
            "containerDefinitions[0].linuxParameters.devices",
            "ALLOWED_PRIVILEGES=devices",
        ],
    ))
    .await;
}

#[tokio::test(flavor = "multi_thread")]
async fn an_added_capability() {
    let body = container(json!({"linuxParameters": {"capabilities": {"add": ["SYS_ADMIN"]}}}));
    refused(Hostile::new(
        body,
        "capabilities",
        &[
            "containerDefinitions[0].linuxParameters.capabilities.add",
            "ALLOWED_PRIVILEGES=capabilities",
        ],
    ))
    .await;
}

#[tokio::test(flavor = "multi_thread")]
async fn a_docker_security_option() {
    let body = container(json!({"dockerSecurityOptions": ["seccomp=unconfined"]}));
    refused(Hostile::new(
        body,
        "docker_security_options",
        &[
            "containerDefinitions[0].dockerSecurityOptions",
            "ALLOWED_PRIVILEGES=docker_security_options",
        ],
    ))
    .await;
}

#[tokio::test(flavor = "multi_thread")]
async fn new_registry_credentials() {
    let body = container(json!({"repositoryCredentials": {
        "credentialsParameter": "arn:aws:secretsmanager:us-east-1:123456789012:secret:team-b/registry"}}));
    refused(Hostile::new(
        body,
        "repository_credentials",
        &[
            "repositoryCredentials.credentialsParameter",
            "ALLOWED_PRIVILEGES",
        ],
    ))
    .await;
}

#[tokio::test(flavor = "multi_thread")]
async fn another_teams_secret() {
    let body = container(json!({"secrets": [{"name": "DB",
        "valueFrom": "arn:aws:secretsmanager:us-east-1:123456789012:secret:team-b/db"}]}));
    refused(Hostile::new(
        body,
        "secrets",
        &["containerDefinitions[0].secrets", "ALLOWED_SECRETS"],
    ))
    .await;
}
