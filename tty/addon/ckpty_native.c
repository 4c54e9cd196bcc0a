/*
 * ckpty_native: the few terminal facts Node cannot ask the kernel for.
 *
 * Mechanism only (see src/host/native.ts for the typed contract and policy):
 *   getTermios(fd)       TCGETS2 on a pty master returns the SLAVE's termios
 *                        (tty_mode_ioctl uses the linked tty for masters).
 *   setTermios(fd, t, drain) TCSETS2 (TCSETSW2 when drain): t as getTermios gives it.
 *   getForegroundPgrp(fd) TIOCGPGRP on a master: the slave's foreground group.
 *   flush(fd, queue)     TCFLSH; on a slave fd, TCIFLUSH empties what the
 *                        program has not read yet (n_tty's read buffer).
 *   flow(fd, action)     TCXONC; on a slave fd, TCOOFF stops the program's output
 *                        (its writes wait) and TCOON starts it again.
 *   queuedInput(fd)      TIOCINQ on a slave: bytes typed that its reader can read now;
 *                        on a master: output the program wrote that is not read yet.
 *                        Bytes still on their way between the two sides count.
 *   peerCredentials(fd)  SO_PEERCRED of a connected Unix socket.
 *   closeOnExecFrom(fd)  close_range(fd, ~0U, CLOSE_RANGE_CLOEXEC): every descriptor
 *                        from fd up is closed in programs this process starts.
 *   coreLimitToHard()    RLIMIT_CORE's soft limit raised to its hard limit; returns the
 *                        previous soft limit (-1 for unlimited).
 *   setCoreLimit(soft)   RLIMIT_CORE's soft limit set back (-1 for unlimited).
 * Errors are thrown as Error objects whose `code` is the errno name ("EIO").
 */
#include <asm/termbits.h>
#include <asm/ioctls.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <linux/close_range.h>
#include <poll.h>
#include <sys/ioctl.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <unistd.h>
#include <sys/socket.h>
#include <node_api.h>

#define CALL(env, expr) \
	do { \
		if ((expr) != napi_ok) { \
			napi_throw_error((env), NULL, "ckpty_native: N-API call failed"); \
			return NULL; \
		} \
	} while (0)

static napi_value throw_errno(napi_env env, const char *what, int err)
{
	char message[256];
	const char *name = strerrorname_np(err);
	snprintf(message, sizeof message, "%s: %s", what, strerror(err));
	napi_throw_error(env, name ? name : "EUNKNOWN", message);
	return NULL;
}

/* Reads argument `index` as an int32; false (with a pending TypeError) if it is not a number. */
static bool int_arg(napi_env env, napi_callback_info info, size_t index, int32_t *out)
{
	napi_value argv[2];
	size_t argc = 2;
	napi_valuetype type;
	if (napi_get_cb_info(env, info, &argc, argv, NULL, NULL) != napi_ok || argc <= index ||
	    napi_typeof(env, argv[index], &type) != napi_ok || type != napi_number ||
	    napi_get_value_int32(env, argv[index], out) != napi_ok) {
		napi_throw_type_error(env, NULL, "ckpty_native: expected an integer argument");
		return false;
	}
	return true;
}

static bool set_uint(napi_env env, napi_value obj, const char *key, uint32_t value)
{
	napi_value v;
	return napi_create_uint32(env, value, &v) == napi_ok &&
	       napi_set_named_property(env, obj, key, v) == napi_ok;
}

static napi_value get_termios(napi_env env, napi_callback_info info)
{
	int32_t fd;
	struct termios2 t;
	napi_value result, cc;

	if (!int_arg(env, info, 0, &fd))
		return NULL;
	if (ioctl(fd, TCGETS2, &t) < 0)
		return throw_errno(env, "TCGETS2", errno);

	CALL(env, napi_create_object(env, &result));
	if (!set_uint(env, result, "iflag", t.c_iflag) || !set_uint(env, result, "oflag", t.c_oflag) ||
	    !set_uint(env, result, "cflag", t.c_cflag) || !set_uint(env, result, "lflag", t.c_lflag) ||
	    !set_uint(env, result, "line", t.c_line) || !set_uint(env, result, "ispeed", t.c_ispeed) ||
	    !set_uint(env, result, "ospeed", t.c_ospeed)) {
		napi_throw_error(env, NULL, "ckpty_native: N-API call failed");
		return NULL;
	}
	CALL(env, napi_create_array_with_length(env, NCCS, &cc));
	for (uint32_t i = 0; i < NCCS; i++) {
		napi_value v;
		CALL(env, napi_create_uint32(env, t.c_cc[i], &v));
		CALL(env, napi_set_element(env, cc, i, v));
	}
	CALL(env, napi_set_named_property(env, result, "cc", cc));
	return result;
}

static bool get_uint(napi_env env, napi_value obj, const char *key, uint32_t *out)
{
	napi_value v;
	return napi_get_named_property(env, obj, key, &v) == napi_ok &&
	       napi_get_value_uint32(env, v, out) == napi_ok;
}

static napi_value set_termios(napi_env env, napi_callback_info info)
{
	napi_value argv[3], cc;
	size_t argc = 3;
	int32_t fd;
	bool drain;
	uint32_t line, length, value;
	struct termios2 t;

	memset(&t, 0, sizeof t);
	if (!int_arg(env, info, 0, &fd))
		return NULL;
	CALL(env, napi_get_cb_info(env, info, &argc, argv, NULL, NULL));
	if (argc < 3 || napi_get_value_bool(env, argv[2], &drain) != napi_ok ||
	    !get_uint(env, argv[1], "iflag", &t.c_iflag) || !get_uint(env, argv[1], "oflag", &t.c_oflag) ||
	    !get_uint(env, argv[1], "cflag", &t.c_cflag) || !get_uint(env, argv[1], "lflag", &t.c_lflag) ||
	    !get_uint(env, argv[1], "line", &line) || !get_uint(env, argv[1], "ispeed", &t.c_ispeed) ||
	    !get_uint(env, argv[1], "ospeed", &t.c_ospeed) ||
	    napi_get_named_property(env, argv[1], "cc", &cc) != napi_ok ||
	    napi_get_array_length(env, cc, &length) != napi_ok || length != NCCS) {
		napi_throw_type_error(env, NULL, "ckpty_native: expected (fd, termios, drain)");
		return NULL;
	}
	t.c_line = (cc_t)line;
	for (uint32_t i = 0; i < NCCS; i++) {
		napi_value v;
		CALL(env, napi_get_element(env, cc, i, &v));
		CALL(env, napi_get_value_uint32(env, v, &value));
		t.c_cc[i] = (cc_t)value;
	}
	if (ioctl(fd, drain ? TCSETSW2 : TCSETS2, &t) < 0)
		return throw_errno(env, "TCSETS2", errno);
	return NULL;
}

/* An ioctl on the descriptor in argument 0 that reads one int, which it returns. */
static napi_value int_ioctl(napi_env env, napi_callback_info info, unsigned long request, const char *name)
{
	int32_t fd;
	int value;
	napi_value result;

	if (!int_arg(env, info, 0, &fd))
		return NULL;
	if (ioctl(fd, request, &value) < 0)
		return throw_errno(env, name, errno);
	CALL(env, napi_create_int32(env, value, &result));
	return result;
}

static napi_value get_foreground_pgrp(napi_env env, napi_callback_info info)
{
	return int_ioctl(env, info, TIOCGPGRP, "TIOCGPGRP");
}

/* An ioctl on the descriptor in argument 0 that takes the int in argument 1. */
static napi_value int_arg_ioctl(napi_env env, napi_callback_info info, unsigned long request, const char *name)
{
	int32_t fd, value;

	if (!int_arg(env, info, 0, &fd) || !int_arg(env, info, 1, &value))
		return NULL;
	if (ioctl(fd, request, value) < 0)
		return throw_errno(env, name, errno);
	return NULL;
}

static napi_value flush(napi_env env, napi_callback_info info)
{
	return int_arg_ioctl(env, info, TCFLSH, "TCFLSH");
}

static napi_value flow(napi_env env, napi_callback_info info)
{
	return int_arg_ioctl(env, info, TCXONC, "TCXONC");
}

/*
 * A byte written on one side reaches the other's read buffer a moment later (the tty's
 * flip buffer is pushed by a work queue): TIOCINQ alone, right after a write, said 0 in
 * 9 of 10 tries. n_tty's poll, finding nothing to read, first runs that work; after it,
 * TIOCINQ counts everything written before the call.
 */
static napi_value queued_input(napi_env env, napi_callback_info info)
{
	int32_t fd;
	struct pollfd pending;

	if (!int_arg(env, info, 0, &fd))
		return NULL;
	pending = (struct pollfd){ .fd = fd, .events = POLLIN };
	if (poll(&pending, 1, 0) < 0)
		return throw_errno(env, "poll", errno);
	return int_ioctl(env, info, TIOCINQ, "TIOCINQ");
}

static napi_value peer_credentials(napi_env env, napi_callback_info info)
{
	int32_t fd;
	struct ucred cred;
	socklen_t len = sizeof cred;
	napi_value result, v;

	if (!int_arg(env, info, 0, &fd))
		return NULL;
	if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cred, &len) < 0)
		return throw_errno(env, "SO_PEERCRED", errno);
	CALL(env, napi_create_object(env, &result));
	CALL(env, napi_create_int32(env, cred.pid, &v));
	CALL(env, napi_set_named_property(env, result, "pid", v));
	if (!set_uint(env, result, "uid", cred.uid) || !set_uint(env, result, "gid", cred.gid)) {
		napi_throw_error(env, NULL, "ckpty_native: N-API call failed");
		return NULL;
	}
	return result;
}

static napi_value close_on_exec_from(napi_env env, napi_callback_info info)
{
	int32_t fd;

	if (!int_arg(env, info, 0, &fd))
		return NULL;
	if (syscall(SYS_close_range, (unsigned)fd, ~0U, CLOSE_RANGE_CLOEXEC) < 0)
		return throw_errno(env, "close_range", errno);
	return NULL;
}

static napi_value core_limit_to_hard(napi_env env, napi_callback_info info)
{
	(void)info;
	struct rlimit limit;
	napi_value result;

	if (getrlimit(RLIMIT_CORE, &limit) < 0)
		return throw_errno(env, "getrlimit", errno);
	rlim_t previous = limit.rlim_cur;
	limit.rlim_cur = limit.rlim_max;
	if (setrlimit(RLIMIT_CORE, &limit) < 0)
		return throw_errno(env, "setrlimit", errno);
	CALL(env, napi_create_double(env, previous == RLIM_INFINITY ? -1 : (double)previous, &result));
	return result;
}

static napi_value set_core_limit(napi_env env, napi_callback_info info)
{
	napi_value argv[1];
	size_t argc = 1;
	double soft;
	struct rlimit limit;

	if (napi_get_cb_info(env, info, &argc, argv, NULL, NULL) != napi_ok || argc < 1 ||
	    napi_get_value_double(env, argv[0], &soft) != napi_ok) {
		napi_throw_type_error(env, NULL, "ckpty_native: expected a number");
		return NULL;
	}
	if (getrlimit(RLIMIT_CORE, &limit) < 0)
		return throw_errno(env, "getrlimit", errno);
	limit.rlim_cur = soft < 0 ? RLIM_INFINITY : (rlim_t)soft;
	if (setrlimit(RLIMIT_CORE, &limit) < 0)
		return throw_errno(env, "setrlimit", errno);
	return NULL;
}

static napi_value init(napi_env env, napi_value exports)
{
	const napi_property_descriptor functions[] = {
		{ "getTermios", NULL, get_termios, NULL, NULL, NULL, napi_enumerable, NULL },
		{ "setTermios", NULL, set_termios, NULL, NULL, NULL, napi_enumerable, NULL },
		{ "getForegroundPgrp", NULL, get_foreground_pgrp, NULL, NULL, NULL, napi_enumerable, NULL },
		{ "flush", NULL, flush, NULL, NULL, NULL, napi_enumerable, NULL },
		{ "flow", NULL, flow, NULL, NULL, NULL, napi_enumerable, NULL },
		{ "closeOnExecFrom", NULL, close_on_exec_from, NULL, NULL, NULL, napi_enumerable, NULL },
		{ "queuedInput", NULL, queued_input, NULL, NULL, NULL, napi_enumerable, NULL },
		{ "peerCredentials", NULL, peer_credentials, NULL, NULL, NULL, napi_enumerable, NULL },
		{ "coreLimitToHard", NULL, core_limit_to_hard, NULL, NULL, NULL, napi_enumerable, NULL },
		{ "setCoreLimit", NULL, set_core_limit, NULL, NULL, NULL, napi_enumerable, NULL },
	};
	CALL(env, napi_define_properties(env, exports, sizeof functions / sizeof functions[0], functions));
	return exports;
}

NAPI_MODULE(ckpty_native, init)
