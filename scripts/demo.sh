#!/usr/bin/env bash
# Runs ecs-deployment for real against the local AWS test bed, with no AWS account:
#   moto's server for SQS, ecs-sim for ECS (rollouts over simulated time), the aws CLI as the producer.
# It creates a deployment queue with a dead-letter queue, a reply queue, a cluster and a 3-task service with
# the deployment circuit breaker, starts the worker with its HTTP endpoint, then sends three deployments: a
# good one with `aws sqs send-message` as the old script's producers do, a good one and one whose containers
# crash with `ecs-deployment send --wait`, which shows each rollout's progress and exits with its outcome,
# and (after an image update, a rollback and a redeploy) a migration that gates a deployment
# (ECS's circuit breaker rolls the crashing one back); then an image update and a rollback; then an image
# tag in ECR (moto) that the service runs is moved, `ecs-deployment status` shows its tasks `no_match`, a
# redeploy replaces them and `status` shows `match`; then the service's history. It ends with the health
# check and a few metrics. Everything the script started stops when it ends.
#
# DEMO_TICK_MS sets real milliseconds per simulated second (default 250).
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$root"
scripts/setup-venv.sh

tick_ms=${DEMO_TICK_MS:-250}
work=$(mktemp -d)
pids=()
cleanup() {
  for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done
  wait 2>/dev/null || true
  rm -rf "$work"
}
trap cleanup EXIT INT TERM

say() { printf '\033[1m==> %s\033[0m\n' "$*"; }

# Waits up to $1 seconds for the command in the remaining arguments to succeed.
wait_for() {
  local deadline=$((SECONDS + $1)); shift
  until "$@" >/dev/null 2>&1; do
    if ((SECONDS >= deadline)); then echo "demo: timed out waiting for: $*" >&2; return 1; fi
    sleep 0.2
  done
}

say "building ecs-deployment and ecs-sim"
cargo build --quiet --locked -p ecs-deployment -p ecs-sim
moto_port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')

say "starting moto (SQS, ECR) on port $moto_port and ecs-sim (ECS, 1 simulated second = ${tick_ms} ms)"
.venv/bin/python scripts/moto-server.py -H 127.0.0.1 -p "$moto_port" >"$work/moto.log" 2>&1 &
pids+=($!)
# ecs-sim asks moto's ECR what an ECR image's tag points to when a deployment starts, as ECS asks ECR.
target/debug/ecs-sim --listen 127.0.0.1:0 --tick-ms "$tick_ms" --ecr-endpoint "http://127.0.0.1:$moto_port" \
  >"$work/sim.out" 2>"$work/sim.log" &
pids+=($!)
wait_for 60 grep -q 'listening on' "$work/sim.out"
ecs_endpoint=$(grep -o 'http://[0-9.:]*' "$work/sim.out" | head -n1)
sqs_endpoint="http://127.0.0.1:$moto_port"
wait_for 60 python3 -c "import urllib.request; urllib.request.urlopen('$sqs_endpoint/moto-api/')"
echo "    SQS: $sqs_endpoint    ECS: $ecs_endpoint"

export AWS_ACCESS_KEY_ID=demo AWS_SECRET_ACCESS_KEY=demo AWS_DEFAULT_REGION=us-east-1 AWS_REGION=us-east-1
export AWS_CONFIG_FILE=/dev/null AWS_SHARED_CREDENTIALS_FILE=/dev/null AWS_PAGER=""
unset AWS_PROFILE AWS_SESSION_TOKEN AWS_ENDPOINT_URL AWS_ENDPOINT_URL_SQS AWS_ENDPOINT_URL_ECS AWS_ENDPOINT_URL_STS \
  AWS_ENDPOINT_URL_SNS AWS_ENDPOINT_URL_ECR AWS_ENDPOINT_URL_IAM AWS_ENDPOINT_URL_SSM \
  AWS_ENDPOINT_URL_SECRETS_MANAGER AWS_ENDPOINT_URL_CLOUDWATCH_LOGS
sqs() { .venv/bin/aws --endpoint-url "$sqs_endpoint" sqs "$@"; }
ecs() { .venv/bin/aws --endpoint-url "$ecs_endpoint" ecs "$@"; }
ecr() { .venv/bin/aws --endpoint-url "$sqs_endpoint" ecr "$@"; }

say "creating the deployment queue with a dead-letter queue"
dlq_url=$(sqs create-queue --queue-name deployments-dlq --query QueueUrl --output text)
dlq_arn=$(sqs get-queue-attributes --queue-url "$dlq_url" --attribute-names QueueArn --query Attributes.QueueArn --output text)
redrive=$(printf '{"deadLetterTargetArn":"%s","maxReceiveCount":"5"}' "$dlq_arn")
queue_url=$(sqs create-queue --queue-name deployments \
  --attributes "$(python3 -c 'import json,sys; print(json.dumps({"VisibilityTimeout": "60", "RedrivePolicy": sys.argv[1]}))' "$redrive")" \
  --query QueueUrl --output text)
echo "    $queue_url"

task_definition() { # image
  cat <<JSON
{"family": "web", "networkMode": "awsvpc", "requiresCompatibilities": ["FARGATE"], "cpu": "256", "memory": "512",
 "containerDefinitions": [{"name": "web", "image": "$1", "essential": true,
   "portMappings": [{"containerPort": 80}],
   "healthCheck": {"command": ["CMD-SHELL", "curl -f http://localhost/ || exit 1"], "interval": 10}}]}
JSON
}

say "creating cluster 'default' and service 'web' (3 tasks of nginx:1.27, circuit breaker with rollback)"
ecs create-cluster --cluster-name default --query cluster.clusterArn --output text >/dev/null
task_definition nginx:1.27 >"$work/v1.json"
ecs register-task-definition --cli-input-json "file://$work/v1.json" --query taskDefinition.taskDefinitionArn --output text
ecs create-service --service-name web --task-definition web:1 --desired-count 3 \
  --deployment-configuration 'maximumPercent=200,minimumHealthyPercent=100,deploymentCircuitBreaker={enable=true,rollback=true}' \
  --query 'service.serviceArn' --output text

# Waits until the service's first deployment is COMPLETED.
service_ready() {
  [[ $(ecs describe-services --services web --query 'services[0].deployments[0].rolloutState' --output text) == COMPLETED ]]
}
wait_for 120 service_ready

replies_url=$(sqs create-queue --queue-name deployment-replies --query QueueUrl --output text)
http_port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')

say "starting the worker: ecs-deployment (SQS_URL=$queue_url, HTTP_LISTEN=127.0.0.1:$http_port)"
# moto serves every AWS service the worker calls but ECS, the pre-flight checks' included.
export AWS_ENDPOINT_URL_SQS=$sqs_endpoint AWS_ENDPOINT_URL_ECS=$ecs_endpoint AWS_ENDPOINT_URL_STS=$sqs_endpoint \
  AWS_ENDPOINT_URL_ECR=$sqs_endpoint AWS_ENDPOINT_URL_IAM=$sqs_endpoint AWS_ENDPOINT_URL_SSM=$sqs_endpoint \
  AWS_ENDPOINT_URL_SECRETS_MANAGER=$sqs_endpoint AWS_ENDPOINT_URL_CLOUDWATCH_LOGS=$sqs_endpoint
# ecs-sim's behaviour label (dockerLabels) is how the demo makes a rollout crash: labels are what a service
# may do, so the worker is told to allow that group to change. Images stay in their repository unless
# ALLOWED_IMAGES names another: deployment 6 moves web from Docker Hub's nginx to the ECR repository web.
ALLOWED_IMAGES='123456789012.dkr.ecr.us-east-1.amazonaws.com/web:*' ALLOWED_PRIVILEGES=labels SQS_URL=$queue_url ECS_POLL_INTERVAL=1s ECS_TIMEOUT=5m SQS_WAIT_TIME=2 HTTP_LISTEN=127.0.0.1:$http_port \
  target/debug/ecs-deployment 2> >(tee "$work/worker.log" | sed -u 's/^/    worker: /' >&2) &
pids+=($!)

# Waits until the worker's log has $1 "deployment finished" lines.
finished() { (($(grep -c 'deployment finished' "$work/worker.log" 2>/dev/null || true) >= $1)); }

# Writes the task definition of `image` whose containers behave as `behaviour` to td.json.
write_td() { # image behaviour
  task_definition "$1" >"$work/td.json"
  python3 - "$work/td.json" "$2" <<'PY2'
import json, sys
td = json.load(open(sys.argv[1]))
td["containerDefinitions"][0]["dockerLabels"] = {"ecs-sim.behaviour": sys.argv[2]}
json.dump(td, open(sys.argv[1], "w"))
PY2
}

send() { # image behaviour commit
  write_td "$1" "$2"
  sqs send-message --queue-url "$queue_url" --message-body "file://$work/td.json" \
    --message-attributes "{\"service\": {\"DataType\": \"String\", \"StringValue\": \"web\"}, \"commit_url\": {\"DataType\": \"String\", \"StringValue\": \"https://example.com/commit/$3\"}}" \
    --query MessageId --output text | sed 's/^/    sent message /'
}

say "deployment 1, sent with the aws CLI as the old script's producers do: nginx:1.28, healthy containers"
send nginx:1.28 healthy abc123
wait_for 300 finished 1

say "deployment 2, sent with ecs-deployment send --wait: nginx:1.29, healthy containers"
write_td nginx:1.29 healthy
target/debug/ecs-deployment send --queue-url "$queue_url" --service web --commit-url https://example.com/commit/bcd234 \
  --reply-to "$replies_url" --wait --poll-interval 1s "$work/td.json"
wait_for 60 finished 2

say "deployment 3, sent with ecs-deployment send --wait: nginx:broken, containers that crash after starting"
write_td nginx:broken crash
if target/debug/ecs-deployment send --queue-url "$queue_url" --service web --commit-url https://example.com/commit/def456 \
  --reply-to "$replies_url" --wait --poll-interval 1s "$work/td.json"; then
  echo "demo: send --wait should have failed for the crashing deployment" >&2
  exit 1
else
  echo "    send --wait exited $? for the failed deployment, as a CI pipeline needs"
fi
wait_for 60 finished 3

say "deployment 4, an image update: ecs-deployment send --image sets one container's image in what web runs"
target/debug/ecs-deployment send --queue-url "$queue_url" --service web --image web=nginx:1.30 \
  --reply-to "$replies_url" --wait --poll-interval 1s
wait_for 60 finished 4

say "deployment 5, a rollback: ecs-deployment send --rollback goes back to the revision before"
target/debug/ecs-deployment send --queue-url "$queue_url" --service web --rollback \
  --reply-to "$replies_url" --wait --poll-interval 1s
wait_for 60 finished 5

# Pushes an image whose one layer is $2 to ECR repository web as tag $1 (moto's digest is the layers').
push_image() { # tag layer-hex-digit
  local layer
  layer=$(printf "$2%.0s" {1..64})
  ecr put-image --repository-name web --image-tag "$1" --query image.imageId.imageDigest --output text \
    --image-manifest "{\"schemaVersion\":2,\"mediaType\":\"application/vnd.docker.distribution.manifest.v2+json\",\"config\":{\"mediaType\":\"application/vnd.docker.container.image.v1+json\",\"size\":1,\"digest\":\"sha256:$layer\"},\"layers\":[{\"mediaType\":\"application/vnd.docker.image.rootfs.diff.tar.gzip\",\"size\":1,\"digest\":\"sha256:$layer\"}]}"
}
# Points tag $1 of repository web at the image tag $2 points to, as docker tag and docker push would.
move_tag() { # tag to
  local manifest
  manifest=$(ecr batch-get-image --repository-name web --image-ids "imageTag=$2" --query 'images[0].imageManifest' --output text)
  ecr put-image --repository-name web --image-tag "$1" --image-manifest "$manifest" --query image.imageId.imageDigest --output text
}

say "ECR (moto): repository web with builds hash_1 and hash_2, and tag prod on hash_1"
ecr create-repository --repository-name web --query repository.repositoryUri --output text | sed 's/^/    /'
echo "    hash_1: $(push_image hash_1 a)"
echo "    hash_2: $(push_image hash_2 b)"
echo "    prod:   $(move_tag prod hash_1)"
prod_image=123456789012.dkr.ecr.us-east-1.amazonaws.com/web:prod

say "deployment 6, an image update to the ECR tag: ecs-deployment send --image web=$prod_image"
target/debug/ecs-deployment send --queue-url "$queue_url" --service web --image "web=$prod_image" \
  --reply-to "$replies_url" --wait --poll-interval 1s
wait_for 60 finished 6

say "the tag moves: prod -> hash_2 ($(move_tag prod hash_2)); the tasks still run what they pulled"
target/debug/ecs-deployment status --service web | tee "$work/status-moved.txt" | sed 's/^/    /'
grep -q 'no_match' "$work/status-moved.txt" || { echo "demo: status should show no_match after the tag moved" >&2; exit 1; }

say "deployment 7, a redeploy: ecs-deployment send --redeploy replaces every task, and checks their digests in ECR"
target/debug/ecs-deployment send --queue-url "$queue_url" --service web --redeploy \
  --reply-to "$replies_url" --wait --poll-interval 1s
wait_for 60 finished 7

say "ecs-deployment status --service web: every task runs what prod points to"
target/debug/ecs-deployment status --service web | tee "$work/status-redeployed.txt" | sed 's/^/    /'
if grep -q 'no_match' "$work/status-redeployed.txt"; then
  echo "demo: status should show match after the redeploy" >&2; exit 1
fi

# Sends td.json for web with a `before` migration running `$@` in its web container, with the aws CLI.
send_with_migration() { # command words...
  python3 - "$work/attributes.json" "$@" <<'PY3'
import json, sys
before = json.dumps({"container": "web", "command": sys.argv[2:]})
json.dump({"service": {"DataType": "String", "StringValue": "web"},
           "before": {"DataType": "String", "StringValue": before}}, open(sys.argv[1], "w"))
PY3
  sqs send-message --queue-url "$queue_url" --message-body "file://$work/td.json" \
    --message-attributes "file://$work/attributes.json" --query MessageId --output text | sed 's/^/    sent message /'
}

say "deployment 8, a migration that fails: its before task exits 3 on the new revision, the service is not updated"
write_td "$prod_image" healthy
send_with_migration ecs-sim-exit 3
wait_for 60 finished 8
grep 'deployment finished' "$work/worker.log" | tail -1 | grep -q 'exited with code 3' ||
  { echo "demo: the failed migration should be reported with its exit code" >&2; exit 1; }

say "deployment 9, the migration fixed: its before task exits 0, then the service is updated"
send_with_migration ecs-sim-exit 0
wait_for 60 finished 9

say "ecs-deployment history --service web"
target/debug/ecs-deployment history --service web | sed 's/^/    /'

say "the worker's health and a few of its metrics (http://127.0.0.1:$http_port)"
target/debug/ecs-deployment healthcheck --url "http://127.0.0.1:$http_port/healthz" | sed 's/^/    /'
python3 -c "import urllib.request; print(urllib.request.urlopen('http://127.0.0.1:$http_port/metrics').read().decode())" |
  grep -E '^ecs_deployment_(messages_received_total|deployments_total|deployments_in_flight|notifications_total)' | sed 's/^/    /'

say "outcomes (from the last log line of each deployment)"
grep 'deployment finished' "$work/worker.log" | while read -r line; do
  printf '    %s  %s  %s\n' "$(grep -o 'new_task_definition="[^"]*' <<<"$line" | sed 's/.*task-definition\///')" \
    "$(grep -o 'outcome="[a-z_]*' <<<"$line" | tr -d '"')" "$(grep -o 'rollback="[a-z_]*' <<<"$line" | tr -d '"' || true)"
done
say "the service now runs"
ecs describe-services --services web --output text \
  --query 'services[0].deployments[].[status, taskDefinition, rolloutState, runningCount, desiredCount]' |
  awk '{sub(/.*task-definition\//, "", $2); printf "    %s %s %s %s/%s running\n", $1, $2, $3, $4, $5}'
say "queue after the deployments (visible, in flight)"
sqs get-queue-attributes --queue-url "$queue_url" --output text \
  --attribute-names ApproximateNumberOfMessages ApproximateNumberOfMessagesNotVisible --query 'Attributes.[ApproximateNumberOfMessages, ApproximateNumberOfMessagesNotVisible]' | sed 's/^/    /'
