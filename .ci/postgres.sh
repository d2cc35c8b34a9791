# shellcheck shell=bash
# == PostgreSQL for the queue tests (feature `postgres`): throwaway servers on 127.0.0.1, run as
# an unprivileged user (the servers refuse root), stopped and deleted on exit, even on failure:
# - a plain cluster: REMOVEBGVIDEO_TEST_POSTGRES_URL;
# - a cluster with ssl=on and a certificate for 127.0.0.1/localhost signed by a CA made here
#   (REMOVEBGVIDEO_TEST_POSTGRES_CA; a second, unrelated CA in REMOVEBGVIDEO_TEST_POSTGRES_WRONG_CA),
#   where the role `tls_only` may connect only over TLS: REMOVEBGVIDEO_TEST_POSTGRES_TLS_URL;
#   the role `cert_only` only over TLS with a client certificate the CA signed (`cert` auth):
#   REMOVEBGVIDEO_TEST_POSTGRES_CERT_URL, that certificate and its key (PKCS#1, 0600) in
#   REMOVEBGVIDEO_TEST_POSTGRES_CLIENT_CERT and _CLIENT_KEY (the same key in PKCS#8 in
#   _CLIENT_KEY_PKCS8, for the platform's TLS), another key in _WRONG_KEY; the role
#   `password_only` only with its password (scram-sha-256): REMOVEBGVIDEO_TEST_POSTGRES_PASSWORD_URL
#   (without it) and REMOVEBGVIDEO_TEST_POSTGRES_PASSWORD;
# - Debian's pgbouncer in transaction mode in front of the plain cluster:
#   REMOVEBGVIDEO_TEST_PGBOUNCER_URL.
# With CI set and one of them missing, those tests fail rather than skip. A URL already set (a
# developer's own database) is used as is. A developer can start them in a shell of their own:
#   source .ci/postgres.sh && start_all_postgres   (and `stop_postgres` when done)
PG_DIRS=()
PG_STOPS=()

# A port no one listens on, below the kernel's range for outgoing connections: a port inside it
# may be the local end of one of the tests' own connections, and then a server cannot bind it.
free_port() {
    local port low=32768
    read -r low _ </proc/sys/net/ipv4/ip_local_port_range 2>/dev/null || true
    for _ in $(seq 1 50); do
        port=$((10000 + RANDOM % (low - 10000)))
        if ! (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; then
            echo "$port"
            return
        fi
    done
    echo "no free port found" >&2
    return 1
}

find_postgres() {
    local initdb
    initdb=$(ls /usr/lib/postgresql/*/bin/initdb 2>/dev/null | sort -V | tail -n 1 || true)
    if [ -z "$initdb" ]; then
        if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
            echo "== installing Debian's postgresql package"
            DEBIAN_FRONTEND=noninteractive apt-get update -qq
            DEBIAN_FRONTEND=noninteractive apt-get install -y -qq postgresql >/dev/null
            initdb=$(ls /usr/lib/postgresql/*/bin/initdb 2>/dev/null | sort -V | tail -n 1 || true)
        fi
        if [ -z "$initdb" ]; then
            echo "no PostgreSQL server found (install Debian's postgresql package)" >&2
            return 1
        fi
    fi
    PG_BIN=$(dirname "$initdb")
    PG_AS=()
    if [ "$(id -u)" = 0 ]; then
        id removebgvideo-ci >/dev/null 2>&1 || useradd --system --no-create-home --shell /usr/sbin/nologin removebgvideo-ci
        PG_AS=(runuser -u removebgvideo-ci --)
    fi
}

# new_dir: a folder in NEW_DIR, deleted on stop.
new_dir() {
    NEW_DIR=$(mktemp -d /tmp/removebgvideo-pg.XXXXXX)
    chmod 755 "$NEW_DIR"
    PG_DIRS+=("$NEW_DIR")
}

own() {
    if [ "$(id -u)" = 0 ]; then chown -R removebgvideo-ci "$@"; fi
}

# start_cluster DIR PORT [postgres -c options...]
start_cluster() {
    local dir=$1 port=$2
    shift 2
    own "$dir"
    "${PG_AS[@]}" "$PG_BIN/initdb" -D "$dir/data" -U postgres --auth=trust -E UTF8 >/dev/null
    if [ -f "$dir/pg_hba.conf" ]; then
        cp "$dir/pg_hba.conf" "$dir/data/pg_hba.conf"
        own "$dir/data/pg_hba.conf"
    fi
    PG_STOPS+=("${PG_AS[*]} $PG_BIN/pg_ctl -D $dir/data -m immediate -w stop")
    "${PG_AS[@]}" "$PG_BIN/pg_ctl" -D "$dir/data" -l "$dir/log" -w -t 60 \
        -o "-h 127.0.0.1 -p $port -k $dir -c max_connections=200 -c fsync=off $*" start >/dev/null
}

start_postgres() {
    find_postgres
    local dir port
    new_dir
    dir=$NEW_DIR
    port=$(free_port)
    start_cluster "$dir" "$port"
    PG_PORT=$port
    export REMOVEBGVIDEO_TEST_POSTGRES_URL="postgres://postgres@127.0.0.1:$port/postgres"
    echo "== PostgreSQL $("$PG_BIN/postgres" --version | awk '{print $3}') on 127.0.0.1:$port"
}

start_postgres_tls() {
    if ! command -v openssl >/dev/null 2>&1 && [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
        echo "== installing Debian's openssl package"
        DEBIAN_FRONTEND=noninteractive apt-get install -y -qq openssl >/dev/null
    fi
    local dir port
    new_dir
    dir=$NEW_DIR
    port=$(free_port)
    # A throwaway CA, a server certificate it signs for 127.0.0.1 and localhost, and a second
    # CA that signs nothing (a client trusting only it must refuse the server).
    openssl req -x509 -newkey rsa:2048 -nodes -days 2 -subj "/CN=removebgvideo test CA" \
        -addext "basicConstraints=critical,CA:TRUE" -addext "keyUsage=critical,keyCertSign,cRLSign" \
        -keyout "$dir/ca.key" -out "$dir/ca.crt" 2>/dev/null
    openssl req -x509 -newkey rsa:2048 -nodes -days 2 -subj "/CN=another CA" \
        -addext "basicConstraints=critical,CA:TRUE" -addext "keyUsage=critical,keyCertSign,cRLSign" \
        -keyout "$dir/wrong-ca.key" -out "$dir/wrong-ca.crt" 2>/dev/null
    openssl req -newkey rsa:2048 -nodes -subj "/CN=localhost" -keyout "$dir/server.key" -out "$dir/server.csr" 2>/dev/null
    printf 'subjectAltName=DNS:localhost,IP:127.0.0.1\nbasicConstraints=CA:FALSE\nkeyUsage=digitalSignature,keyEncipherment\nextendedKeyUsage=serverAuth\n' >"$dir/server.ext"
    openssl x509 -req -in "$dir/server.csr" -CA "$dir/ca.crt" -CAkey "$dir/ca.key" -CAcreateserial -days 2 \
        -extfile "$dir/server.ext" -out "$dir/server.crt" 2>/dev/null
    chmod 600 "$dir/server.key"
    # A client certificate for the role cert_only, signed by the CA, its key in PKCS#1 (the form
    # many providers hand out) and PKCS#8; the wrong CA's key is a key of another certificate. The test
    # process reads the keys (root in CI reads any file), which are 0600 as libpq wants.
    openssl req -newkey rsa:2048 -nodes -subj "/CN=cert_only" -keyout "$dir/client.pk8" -out "$dir/client.csr" 2>/dev/null
    printf 'basicConstraints=CA:FALSE\nkeyUsage=digitalSignature,keyEncipherment\nextendedKeyUsage=clientAuth\n' >"$dir/client.ext"
    openssl x509 -req -in "$dir/client.csr" -CA "$dir/ca.crt" -CAkey "$dir/ca.key" -CAcreateserial -days 2 \
        -extfile "$dir/client.ext" -out "$dir/client.crt" 2>/dev/null
    openssl rsa -in "$dir/client.pk8" -traditional -out "$dir/client.key" 2>/dev/null
    chmod 600 "$dir/client.key" "$dir/client.pk8" "$dir/wrong-ca.key"
    local password
    password="pw-$RANDOM$RANDOM"
    cat >"$dir/pg_hba.conf" <<HBA
local all all trust
hostnossl all tls_only 0.0.0.0/0 reject
hostssl all cert_only 127.0.0.1/32 cert
host all cert_only 0.0.0.0/0 reject
host all password_only 127.0.0.1/32 scram-sha-256
host all all 127.0.0.1/32 trust
HBA
    # ssl_ca_file: the server asks for client certificates and checks them against the CA.
    start_cluster "$dir" "$port" -c ssl=on -c ssl_cert_file="$dir/server.crt" -c ssl_key_file="$dir/server.key" \
        -c ssl_ca_file="$dir/ca.crt"
    "${PG_AS[@]}" "$PG_BIN/psql" -q -h "$dir" -p "$port" -U postgres -d postgres \
        -c "CREATE ROLE tls_only LOGIN" -c "CREATE DATABASE tls_only OWNER tls_only" \
        -c "CREATE ROLE cert_only LOGIN" -c "CREATE DATABASE cert_only OWNER cert_only" \
        -c "SET password_encryption = 'scram-sha-256'" \
        -c "CREATE ROLE password_only LOGIN PASSWORD '$password'" \
        -c "CREATE DATABASE password_only OWNER password_only" >/dev/null
    export REMOVEBGVIDEO_TEST_POSTGRES_TLS_URL="postgres://tls_only@127.0.0.1:$port/tls_only"
    export REMOVEBGVIDEO_TEST_POSTGRES_CA="$dir/ca.crt"
    export REMOVEBGVIDEO_TEST_POSTGRES_WRONG_CA="$dir/wrong-ca.crt"
    export REMOVEBGVIDEO_TEST_POSTGRES_CERT_URL="postgres://cert_only@127.0.0.1:$port/cert_only"
    export REMOVEBGVIDEO_TEST_POSTGRES_CLIENT_CERT="$dir/client.crt"
    export REMOVEBGVIDEO_TEST_POSTGRES_CLIENT_KEY="$dir/client.key"
    export REMOVEBGVIDEO_TEST_POSTGRES_CLIENT_KEY_PKCS8="$dir/client.pk8"
    export REMOVEBGVIDEO_TEST_POSTGRES_WRONG_KEY="$dir/wrong-ca.key"
    export REMOVEBGVIDEO_TEST_POSTGRES_PASSWORD_URL="postgres://password_only@127.0.0.1:$port/password_only"
    export REMOVEBGVIDEO_TEST_POSTGRES_PASSWORD="$password"
    echo "== PostgreSQL with TLS on 127.0.0.1:$port (CA $dir/ca.crt)"
}

start_pgbouncer() {
    if ! command -v pgbouncer >/dev/null 2>&1 && ! [ -x /usr/sbin/pgbouncer ]; then
        if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
            echo "== installing Debian's pgbouncer package"
            DEBIAN_FRONTEND=noninteractive apt-get install -y -qq pgbouncer >/dev/null
        fi
    fi
    local pgbouncer
    pgbouncer=$(command -v pgbouncer || echo /usr/sbin/pgbouncer)
    if ! [ -x "$pgbouncer" ]; then
        echo "no pgbouncer found (install Debian's pgbouncer package)" >&2
        return 1
    fi
    local dir port
    new_dir
    dir=$NEW_DIR
    port=$(free_port)
    echo '"postgres" ""' >"$dir/users.txt"
    cat >"$dir/pgbouncer.ini" <<INI
[databases]
* = host=127.0.0.1 port=$PG_PORT
[pgbouncer]
listen_addr = 127.0.0.1
listen_port = $port
unix_socket_dir =
auth_type = trust
auth_file = $dir/users.txt
pool_mode = transaction
max_client_conn = 200
default_pool_size = 10
logfile = $dir/pgbouncer.log
pidfile = $dir/pgbouncer.pid
INI
    own "$dir"
    "${PG_AS[@]}" "$pgbouncer" -d "$dir/pgbouncer.ini"
    PG_STOPS+=("kill_pidfile $dir/pgbouncer.pid")
    local listening=
    for _ in $(seq 1 50); do
        if (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; then
            listening=yes
            break
        fi
        sleep 0.1
    done
    if [ -z "$listening" ]; then
        echo "pgbouncer is not listening on 127.0.0.1:$port after 5 s; its log:" >&2
        cat "$dir/pgbouncer.log" >&2 || true
        return 1
    fi
    export REMOVEBGVIDEO_TEST_PGBOUNCER_URL="postgres://postgres@127.0.0.1:$port/postgres"
    echo "== pgbouncer $("$pgbouncer" --version | head -n 1 | awk '{print $2}') (transaction mode) on 127.0.0.1:$port"
}

kill_pidfile() {
    if [ -f "$1" ]; then kill "$(cat "$1")" 2>/dev/null || true; fi
}

stop_postgres() {
    local stop dir
    for stop in "${PG_STOPS[@]}"; do
        $stop >/dev/null 2>&1 || true
    done
    for dir in "${PG_DIRS[@]}"; do
        rm -rf "$dir"
    done
    PG_STOPS=()
    PG_DIRS=()
}

start_all_postgres() {
    if [ -z "${REMOVEBGVIDEO_TEST_POSTGRES_URL:-}" ]; then
        start_postgres
        start_pgbouncer
    fi
    if [ -z "${REMOVEBGVIDEO_TEST_POSTGRES_TLS_URL:-}" ]; then
        find_postgres
        start_postgres_tls
    fi
}
