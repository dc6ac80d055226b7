#!/usr/bin/env bash
# Regenerates the DEVELOPMENT-ONLY certificate authority and localhost server
# certificate in this folder. Never use them outside a developer's machine:
# the private keys are public. Run from anywhere: bash certs/regenerate.sh
set -euo pipefail
cd "$(dirname "$0")"
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -days 3650 \
  -subj "/O=agentgateway DEVELOPMENT ONLY/CN=agentgateway development CA" \
  -keyout ca.key -out ca.crt \
  -addext "basicConstraints=critical,CA:TRUE" -addext "keyUsage=critical,keyCertSign,cRLSign"
openssl req -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes \
  -subj "/O=agentgateway DEVELOPMENT ONLY/CN=localhost" -keyout server.key.tmp -out server.csr
openssl x509 -req -in server.csr -CA ca.crt -CAkey ca.key -CAcreateserial -days 825 -out server.crt \
  -extfile <(printf 'subjectAltName=DNS:localhost,IP:127.0.0.1,IP:::1\nbasicConstraints=CA:FALSE\nkeyUsage=critical,digitalSignature\nextendedKeyUsage=serverAuth\n')
openssl pkcs8 -topk8 -nocrypt -in server.key.tmp -out server.key
rm -f server.csr server.key.tmp ca.srl
echo "wrote $(pwd)/ca.crt, server.crt, server.key (development only)"
