# SPDX-License-Identifier: ISC
# bench/pool-b.sh: a second sohbetd pool with an nginx of its own (plain
# HTTP on loopback), as a second app host, for the benchmarks that
# measure two (bench/longpoll/run --cross, bench/cluster/run).  Sourced;
# uses VAR (the instance's var directory).  The pool's configuration must
# listen on $VAR/run/sohbetd-b.sock.

B_SOHBETD_PID=
B_NGINX_PID=

# Stop process $1 (and, for sohbetd, its workers) by pid; wait up to 20 s.
stop_pid() {
	local pid=$1 kids i k
	[ -n "$pid" ] && [ -d "/proc/$pid" ] || return 0
	kids=$(ps -o pid= --ppid "$pid" 2>/dev/null || true)
	kill -TERM "$pid" 2>/dev/null || true
	for ((i = 0; i < 200; i++)); do
		[ -d "/proc/$pid" ] || break
		sleep 0.1
	done
	[ ! -d "/proc/$pid" ] || kill -KILL "$pid" 2>/dev/null || true
	for k in $kids; do
		for ((i = 0; i < 50; i++)); do
			[ -d "/proc/$k" ] || break
			sleep 0.1
		done
	done
}

# The second pool's port: $SOHBET_BENCHPORT2, or the first free one from
# $1 + 100 on (not $1 + 1: tools/dev's second HTTPS server is often there).
pool_b_port() {
	local port=${SOHBET_BENCHPORT2:-} i
	if [ -z "$port" ]; then
		for ((i = 100; i < 200; i++)); do
			port=$(($1 + i))
			(exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null || break
		done
	fi
	if (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; then
		echo "port $port is in use" >&2
		return 1
	fi
	echo "$port"
}

# Start sohbetd (build $1) on configuration $3 and nginx on 127.0.0.1:$2.
pool_b_start() {
	local build=$1 port=$2 conf=$3 i
	rm -f "$VAR/run/sohbetd-b.sock"
	echo "==> starting the second pool (sohbetd + nginx on 127.0.0.1:$port)"
	B_SOHBETD_PID=$(setsid "$build/src/sohbetd" -c "$conf" \
	    </dev/null >>"$VAR/log/sohbetd-b.log" 2>&1 & echo $!)
	for ((i = 0; i < 200; i++)); do
		[ -S "$VAR/run/sohbetd-b.sock" ] && break
		sleep 0.1
	done
	mkdir -p "$VAR/nginx-b"
	cat >"$VAR/etc/nginx-b.conf" <<-NGINX
	# The second pool of the benchmarks (bench/pool-b.sh): plain HTTP.
	user root;
	worker_processes 1;
	worker_rlimit_nofile 19000;
	pid $VAR/run/nginx-b.pid;
	error_log $VAR/log/nginx-b-error.log warn;
	events { worker_connections 18000; }
	http {
		access_log $VAR/log/nginx-b-access.log;
		client_body_temp_path $VAR/nginx-b/client_body;
		proxy_temp_path $VAR/nginx-b/proxy;
		fastcgi_temp_path $VAR/nginx-b/fastcgi;
		uwsgi_temp_path $VAR/nginx-b/uwsgi;
		scgi_temp_path $VAR/nginx-b/scgi;
		server {
			listen 127.0.0.1:$port backlog=4096;
			location /api/ {
				include /etc/nginx/fastcgi_params;
				fastcgi_pass unix:$VAR/run/sohbetd-b.sock;
				fastcgi_read_timeout 75s;
			}
			location = /metrics {
				allow 127.0.0.1;
				deny all;
				include /etc/nginx/fastcgi_params;
				fastcgi_pass unix:$VAR/run/sohbetd-b.sock;
			}
		}
	}
	NGINX
	setsid nginx -p "$VAR/nginx-b/" -e "$VAR/log/nginx-b-error.log" \
	    -c "$VAR/etc/nginx-b.conf" </dev/null >>"$VAR/log/nginx-b-error.log" 2>&1
	for ((i = 0; i < 100; i++)); do
		[ -s "$VAR/run/nginx-b.pid" ] && break
		sleep 0.1
	done
	read -r B_NGINX_PID <"$VAR/run/nginx-b.pid"
}

# Stop the second pool and its nginx, if they run.
pool_b_stop() {
	stop_pid "$B_NGINX_PID"
	stop_pid "$B_SOHBETD_PID"
	B_NGINX_PID=
	B_SOHBETD_PID=
	rm -f "$VAR/run/nginx-b.pid" "$VAR/run/sohbetd-b.sock"
}
