#!/bin/sh
# Writes the upstream list from HERITAGE_WEB_BACKENDS ("web1:8080 web2:8080"), makes a self-signed
# certificate for HERITAGE_TLS_NAME if none is mounted, and runs nginx in the foreground.
set -e
TLS=/etc/heritage-tls
mkdir -p "$TLS"
if [ ! -s "$TLS/cert.pem" ] || [ ! -s "$TLS/key.pem" ]; then
  name=${HERITAGE_TLS_NAME:-localhost}
  openssl req -x509 -newkey rsa:2048 -nodes -days 825 -subj "/CN=$name" \
    -addext "subjectAltName=DNS:$name,DNS:localhost,IP:127.0.0.1" \
    -keyout "$TLS/key.pem" -out "$TLS/cert.pem" 2>/dev/null
  echo "heritage-proxy: self-signed certificate for $name made" >&2
fi
servers=""
for b in ${HERITAGE_WEB_BACKENDS:-web1:8080 web2:8080}; do
  servers="$servers    server $b max_fails=2 fail_timeout=5s;\n"
done
sed -e "s|@SERVERS@|$servers|" \
    -e "s|@MAX_BODY@|${HERITAGE_PROXY_MAX_BODY:-512m}|" \
    /etc/nginx/heritage.conf.template > /etc/nginx/conf.d/heritage.conf
exec nginx -g 'daemon off;'
