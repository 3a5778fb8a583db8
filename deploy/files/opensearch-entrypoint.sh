#!/bin/sh
# The runner answers HTTP on the first free port above -baseHttpPort: 9199 gives 9200. Its node reads
# node_1/config/opensearch.yml when present: there it listens on every address of the container.
set -e
BASE=/var/lib/opensearch
mkdir -p "$BASE/node_1/config"
printf 'network.host: 0.0.0.0\n' > "$BASE/node_1/config/opensearch.yml"
chown -R opensearch: "$BASE"
exec setpriv --reuid=opensearch --regid=opensearch --init-groups \
  java -Xms"${OPENSEARCH_HEAP:-512m}" -Xmx"${OPENSEARCH_HEAP:-512m}" -XX:+UseSerialGC \
  -cp "/opt/opensearch/lib/*" org.codelibs.opensearch.runner.OpenSearchRunner \
  -basePath "$BASE" -numOfNode 1 -baseHttpPort 9199 -clusterName "${OPENSEARCH_CLUSTER:-heritage}" -printOnFailure
