#!/bin/sh
# Makes a development CA and a server certificate for localhost, 127.0.0.1 and ::1 with the openssl
# command line: the same files, with the same properties, that securechatd creates by itself
# (DevelopmentCertificates.ensure) when started without --cert/--key.
#
# Usage: certs/generate.sh [directory]      (default: the directory this script is in)
#
# An existing ca.crt + ca.key is reused, so clients that already trust it keep working.
# An existing server.crt or server.key is never overwritten: delete both to make new ones.
set -eu

dir=${1:-$(dirname "$0")}
mkdir -p "$dir"
cd "$dir"
umask 077   # keys are born 0600; certificates are chmod-ed to 0644 below

for key in server.key ca.key; do
    if [ -L "$key" ]; then
        echo "$(pwd)/$key is a symbolic link; refusing to follow it for a private key" >&2
        exit 1
    fi
done

if [ -e server.crt ] || [ -e server.key ]; then
    echo "server.crt or server.key already exists in $(pwd); delete both to make new ones" >&2
    exit 1
fi

subject_o="/O=SecureChat development"
name_constraints="critical,permitted;DNS:localhost,permitted;IP:127.0.0.0/255.0.0.0"
name_constraints="$name_constraints,permitted;IP:::1/ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff"

if [ ! -e ca.crt ] || [ ! -e ca.key ]; then
    # ECDSA P-256 CA, ~10 years. pathlen:0 and the name constraints: a stolen CA key can sign for nothing
    # but localhost, 127.0.0.0/8 and ::1, and cannot make an intermediate CA.
    openssl req -x509 -new -sha256 -days 3650 -nodes \
        -newkey ec -pkeyopt ec_paramgen_curve:P-256 \
        -keyout ca.key -out ca.crt \
        -subj "$subject_o/CN=SecureChat development CA" \
        -addext "basicConstraints=critical,CA:TRUE,pathlen:0" \
        -addext "keyUsage=critical,keyCertSign,cRLSign" \
        -addext "nameConstraints=$name_constraints" \
        -addext "subjectKeyIdentifier=hash"
fi

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

cat > "$work/server.ext" <<'EXT'
basicConstraints = critical,CA:FALSE
keyUsage = critical,digitalSignature
extendedKeyUsage = serverAuth
subjectAltName = DNS:localhost,IP:127.0.0.1,IP:::1
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid:always
EXT

# ECDSA P-256 server key and a certificate signed by the CA: 365 days, random 127-bit serial.
openssl req -new -sha256 -nodes \
    -newkey ec -pkeyopt ec_paramgen_curve:P-256 \
    -keyout server.key -out "$work/server.csr" \
    -subj "$subject_o/CN=localhost"
serial=$(openssl rand -hex 16 | sed 's/^./7/')
openssl x509 -req -sha256 -days 365 \
    -in "$work/server.csr" -CA ca.crt -CAkey ca.key -set_serial "0x$serial" \
    -extfile "$work/server.ext" -out "$work/server.leaf.crt"

# The server sends its chain: leaf first, then the CA.
cat "$work/server.leaf.crt" ca.crt > server.crt
chmod 600 ca.key server.key
chmod 644 ca.crt server.crt

openssl verify -CAfile ca.crt server.crt >/dev/null
echo "CA certificate: $(pwd)/ca.crt"
openssl x509 -in ca.crt -noout -fingerprint -sha256
echo "Try: openssl s_client -connect localhost:9443 -CAfile $(pwd)/ca.crt"
