/* filterd-pipe: the pipe service's client in C, as spamc is spamd's.
 *
 * pipe(8) starts one a message, and Python's own start costs more than FILTER_README's whole shell script, so
 * this does what `filterd pipe` does with filterd_pipe_service set (filterd/pipe/client.py) with libc alone:
 * filterd_pipe_service read as filterd/pipe/main_cf.py reads it, the envelope and stdin sent in the protocol of
 * filterd/pipe/protocol.py through one fixed buffer (memory does not grow with the message), and the service's
 * status (0, 69, 75) as the exit status, its text on stdout, word for word the Python client's. Whatever keeps
 * the message from the service is 75, so that pipe(8) defers and nothing is lost; where `filterd pipe` would
 * need filterd's configuration loader (a $name in the setting, no setting, main.cf unreadable) it is 75 too.
 *
 *     filterd-pipe [-c main.cf] [-o name=value]... [pipe] [-c ...] -f SENDER [--] RECIPIENT...
 *
 * Build: gcc -std=c99 -O2 -Wall -Wextra -Werror -o filterd-pipe filterd-pipe.c
 */
#define _POSIX_C_SOURCE 200809L

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <sys/un.h>
#include <unistd.h>

#define EX_UNAVAILABLE 69
#define EX_TEMPFAIL 75
#define READ_SIZE 65536
#define REPLY_LIMIT 8192
#define LINE_LIMIT 4096
#define RECIPIENT_LIMIT 1000
#define CHUNK_HEADROOM 16 /* room for a chunk's "65536\n" before its bytes */
#define NAME "filterd_pipe_service"
#define DEFAULT_CONFIG "/etc/filterd/main.cf"
#define USAGE "filterd-pipe [-c main.cf] [-o name=value]... pipe -f SENDER -- RECIPIENT..."

/* A piece of a string, which may hold NUL bytes (main.cf is read as it is). */
struct slice {
    const char *p;
    size_t n;
};

struct command_line {
    const char *config;        /* the last -c, or NULL */
    char **overrides;          /* the -o values, in order */
    int n_overrides;
    const char *sender;
    char **recipients;
    int n_recipients;
};

static void say_bytes(const char *p, size_t n)
{
    fwrite(p, 1, n, stdout);
}

static void say(const char *text)
{
    fputs(text, stdout);
}

static int finish(int status)
{
    putc('\n', stdout);
    fflush(stdout);
    return status;
}

/* memory from realloc, or exit 75: the message stays with pipe(8). */
static void *grown(void *p, size_t n)
{
    if ((p = realloc(p, n)) != NULL)
        return p;
    say("4.3.0 filterd-pipe: out of memory");
    exit(finish(EX_TEMPFAIL));
}

/* Python's repr() of bytes: the same quotes and escapes, so that the text matches the Python client's. */
static void say_repr(const unsigned char *p, size_t n, int prefix)
{
    int quote = memchr(p, '\'', n) && !memchr(p, '"', n) ? '"' : '\'';

    if (prefix)
        putc('b', stdout);
    putc(quote, stdout);
    for (size_t i = 0; i < n; i++) {
        if (p[i] == quote || p[i] == '\\')
            printf("\\%c", p[i]);
        else if (p[i] == '\t')
            say("\\t");
        else if (p[i] == '\n')
            say("\\n");
        else if (p[i] == '\r')
            say("\\r");
        else if (p[i] < ' ' || p[i] >= 0x7f)
            printf("\\x%02x", p[i]);
        else
            putc(p[i], stdout);
    }
    putc(quote, stdout);
}

/* The bytes of a valid UTF-8 character at p (at most n long), or 0 with *bad the length of the invalid prefix
 * that Python's "replace" turns into one U+FFFD. */
static size_t utf8_length(const unsigned char *p, size_t n, size_t *bad)
{
    unsigned char low = 0x80, high = 0xbf;
    size_t want, i;

    if (p[0] < 0x80)
        return 1;
    if (p[0] >= 0xc2 && p[0] <= 0xdf)
        want = 2;
    else if (p[0] >= 0xe0 && p[0] <= 0xef)
        want = 3, low = p[0] == 0xe0 ? 0xa0 : 0x80, high = p[0] == 0xed ? 0x9f : 0xbf;
    else if (p[0] >= 0xf0 && p[0] <= 0xf4)
        want = 4, low = p[0] == 0xf0 ? 0x90 : 0x80, high = p[0] == 0xf4 ? 0x8f : 0xbf;
    else
        want = 0;
    for (i = 1; i < want && i < n && p[i] >= low && p[i] <= high; i++)
        low = 0x80, high = 0xbf;
    if (want && i == want)
        return want;
    *bad = i;
    return 0;
}

/* The service's text as the Python client prints it: decoded from UTF-8 with "replace". */
static void say_decoded(const unsigned char *p, size_t n)
{
    size_t i = 0, length, bad;

    while (i < n) {
        if ((length = utf8_length(p + i, n - i, &bad)) != 0) {
            say_bytes((const char *)p + i, length);
            i += length;
        } else {
            say("\xef\xbf\xbd");
            i += bad;
        }
    }
}

/* The length of the whitespace character (as Python's str.isspace) that p starts with, or 0. */
static size_t space_at(const unsigned char *p, size_t n)
{
    if (n && ((p[0] >= '\t' && p[0] <= '\r') || (p[0] >= 0x1c && p[0] <= 0x20)))
        return 1;
    if (n >= 2 && p[0] == 0xc2 && (p[1] == 0x85 || p[1] == 0xa0))
        return 2;
    if (n < 3)
        return 0;
    if ((p[0] == 0xe1 && p[1] == 0x9a && p[2] == 0x80) || (p[0] == 0xe3 && p[1] == 0x80 && p[2] == 0x80))
        return 3;
    if (p[0] == 0xe2 && p[1] == 0x80 && ((p[2] >= 0x80 && p[2] <= 0x8a) || p[2] == 0xa8 || p[2] == 0xa9 ||
                                         p[2] == 0xaf))
        return 3;
    return p[0] == 0xe2 && p[1] == 0x81 && p[2] == 0x9f ? 3 : 0;
}

/* Python's str.strip() with no argument: Unicode whitespace off both ends (a lead byte never ends a sequence,
 * so a space found at the end is a whole character). */
static struct slice strip_spaces(struct slice s)
{
    const unsigned char *p = (const unsigned char *)s.p;
    size_t length, k;

    while ((length = space_at(p, s.n)) != 0)
        p += length, s.n -= length;
    for (;;) {
        for (k = 1; k <= 3 && k <= s.n; k++)
            if (space_at(p + s.n - k, k) == k)
                break;
        if (k > 3 || k > s.n)
            break;
        s.n -= k;
    }
    s.p = (const char *)p;
    return s;
}

/* Python's str.strip(chars). */
static struct slice strip_chars(struct slice s, const char *chars)
{
    while (s.n && s.p[0] && strchr(chars, s.p[0]))
        s.p++, s.n--;
    while (s.n && s.p[s.n - 1] && strchr(chars, s.p[s.n - 1]))
        s.n--;
    return s;
}

static int equals(struct slice s, const char *text)
{
    return s.n == strlen(text) && memcmp(s.p, text, s.n) == 0;
}

static struct slice whole(const char *text)
{
    struct slice s = {text, strlen(text)};
    return s;
}

/* A copy as a C string (the setting is used as one). */
static char *copy(struct slice s)
{
    char *text = grown(NULL, s.n + 1);

    memcpy(text, s.p, s.n);
    text[s.n] = '\0';
    return text;
}

/* The command line as filterd.cli._pipe_words reads it, the word pipe optional; 0 when it is not one. */
static int parse_command_line(int argc, char **argv, struct command_line *line)
{
    static const char *const steps[] = {"pipe", "-f"};
    int i = 1;

    line->overrides = grown(NULL, (size_t)argc * sizeof *line->overrides);
    for (int step = 0; step < 2; step++) {
        while (argc - i > 1 && (!strcmp(argv[i], "-c") || !strcmp(argv[i], "-o"))) {
            if (argv[i][1] == 'c')
                line->config = argv[i + 1];
            else
                line->overrides[line->n_overrides++] = argv[i + 1];
            i += 2;
        }
        if (i < argc && !strcmp(argv[i], steps[step]))
            i++;
        else if (step == 1 || i >= argc || strcmp(argv[i], "-f"))
            return 0;
    }
    if (argc - i < 2)
        return 0;
    line->sender = argv[i++];
    if (!strcmp(argv[i], "--"))
        i++;
    else
        for (int k = i; k < argc; k++)
            if (argv[k][0] == '-')
                return 0;
    line->recipients = argv + i;
    line->n_recipients = argc - i;
    return line->n_recipients > 0;
}

/* The whole of a file, NUL-terminated, in *text; -1 with errno when it cannot be read. */
static int read_file(const char *path, char **text, size_t *length, int *is_directory)
{
    struct stat status;
    size_t size = 0, got = 0;
    char *buffer = NULL;
    int fd = open(path, O_RDONLY);

    *is_directory = 0;
    if (fd < 0)
        return -1;
    if (fstat(fd, &status) == 0 && S_ISDIR(status.st_mode)) {
        close(fd);
        *is_directory = 1;
        errno = EISDIR;
        return -1;
    }
    for (;;) {
        if (got + 1 >= size)
            buffer = grown(buffer, size = size ? 2 * size : 8192);
        ssize_t n = read(fd, buffer + got, size - got - 1);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0) {
            int error = errno;
            close(fd);
            errno = error;
            return -1;
        }
        if (n == 0)
            break;
        got += (size_t)n;
    }
    close(fd);
    buffer[got] = '\0';
    *text = buffer;
    *length = got;
    return 0;
}

/* The value of the last `filterd_pipe_service =` line and its continuation lines, as main_cf._last_value finds
 * it in the text Python reads with universal newlines (\r\n and \r end a line too). */
static struct slice last_value(const char *text, size_t length, char **joined)
{
    struct slice value = {"", 0};
    size_t start = 0, end;
    int inside = 0;

    while (start <= length) {
        for (end = start; end < length && text[end] != '\n' && text[end] != '\r'; end++)
            ;
        struct slice line = {text + start, end - start};
        struct slice stripped = strip_chars(line, " \t\r");
        start = end + (end + 1 < length && text[end] == '\r' && text[end + 1] == '\n' ? 2 : 1);
        if (!stripped.n || stripped.p[0] == '#')
            continue;
        if (line.p[0] == ' ' || line.p[0] == '\t') {
            if (inside && value.n) {
                int in_joined = *joined && value.p == *joined;
                char *longer = grown(*joined, value.n + 1 + stripped.n);
                if (!in_joined)
                    memcpy(longer, value.p, value.n);
                longer[value.n] = ' ';
                memcpy(longer + value.n + 1, stripped.p, stripped.n);
                *joined = longer;
                value.p = longer, value.n += 1 + stripped.n;
            } else if (inside) {
                value = stripped;
            }
            continue;
        }
        const char *equal = memchr(stripped.p, '=', stripped.n);
        struct slice name = {stripped.p, equal ? (size_t)(equal - stripped.p) : 0};
        inside = equal && equals(strip_chars(name, " \t"), NAME);
        if (inside) {
            struct slice rest = {equal + 1, stripped.n - name.n - 1};
            value = strip_chars(rest, " \t");
        }
    }
    return value;
}

/* filterd_pipe_service from the last -o that sets it: 1 with *service, 0 with the reason said, -1 for none. */
static int override_service(const struct command_line *line, char **service)
{
    for (int k = line->n_overrides - 1; k >= 0; k--) {
        const char *item = line->overrides[k], *equal = strchr(item, '=');
        struct slice name = {item, equal ? (size_t)(equal - item) : 0};
        if (!equal || !equals(strip_spaces(name), NAME))
            continue;
        if (strchr(equal + 1, '$')) {
            printf("4.3.5 filterd configuration error: -o %s: filterd-pipe does not expand $name: give the "
                   "address itself, or run filterd pipe", item);
            return 0;
        }
        *service = copy(strip_spaces(whole(equal + 1)));
        if (**service)
            return 1;
        say("4.3.5 filterd configuration error: -o " NAME " is empty: filterd-pipe only hands messages to a pipe "
            "service; filterd pipe filters without one");
        return 0;
    }
    return -1;
}

/* filterd_pipe_service from main.cf (-c's file or directory, else FILTERD_CONFIG's, else the default): 1 with
 * *service, 0 with the reason said. */
static int main_cf_service(const struct command_line *line, char **service)
{
    const char *path = line->config && *line->config ? line->config : getenv("FILTERD_CONFIG");
    char *text, *joined = NULL;
    size_t length;
    int is_directory, status;

    path = path && *path ? path : DEFAULT_CONFIG;
    status = read_file(path, &text, &length, &is_directory);
    if (status < 0 && is_directory) {
        char *inner = grown(NULL, strlen(path) + sizeof "/main.cf");
        sprintf(inner, "%s/main.cf", path);
        path = inner;
        status = read_file(path, &text, &length, &is_directory);
    }
    if (status < 0)
        return printf("4.3.5 filterd configuration error: open %s: %s", path, strerror(errno)), 0;
    struct slice value = last_value(text, length, &joined);
    if (memchr(value.p, '$', value.n)) {
        say("4.3.5 filterd configuration error: " NAME " = ");
        say_bytes(value.p, value.n);
        printf(" in %s: filterd-pipe does not expand $name: give the address itself, or run filterd pipe", path);
        return 0;
    }
    if (!value.n)
        return printf("4.3.5 filterd configuration error: no " NAME " in %s: filterd-pipe only hands messages to a "
                      "pipe service; filterd pipe filters without one", path), 0;
    *service = copy(value);
    return 1;
}

/* The service's address, as client.parse_service reads unix:/PATH or inet:HOST:PORT and as Python's socket
 * module resolves HOST (a numeric address as it is, else the first that getaddrinfo gives). */
struct address {
    struct sockaddr_storage storage;
    socklen_t length;
    const char *error; /* why it could not be made, as the Python client words it, or NULL */
};

static int unix_address(const char *path, struct address *address)
{
    struct sockaddr_un *un = (struct sockaddr_un *)&address->storage;
    size_t length = strlen(path);

    if (length > sizeof un->sun_path) {
        address->error = "AF_UNIX path too long";
        return 1;
    }
    un->sun_family = AF_UNIX;
    memcpy(un->sun_path, path, length);
    address->length = (socklen_t)(offsetof(struct sockaddr_un, sun_path) + length);
    return 1;
}

static int inet_address(char *host, long port, struct address *address)
{
    struct sockaddr_in *in = (struct sockaddr_in *)&address->storage;
    struct sockaddr_in6 *in6 = (struct sockaddr_in6 *)&address->storage;
    struct addrinfo hints, *found;
    int family = strchr(host, ':') ? AF_INET6 : AF_INET, error;

    if (family == AF_INET && inet_pton(AF_INET, host, &in->sin_addr) > 0) {
        address->length = sizeof *in;
    } else if (family == AF_INET6 && !strchr(host, '%') && inet_pton(AF_INET6, host, &in6->sin6_addr) > 0) {
        address->length = sizeof *in6;
    } else {
        memset(&hints, 0, sizeof hints);
        hints.ai_family = family;
        hints.ai_socktype = SOCK_STREAM;
        if ((error = getaddrinfo(host, NULL, &hints, &found)) != 0) {
            address->error = error == EAI_SYSTEM ? strerror(errno) : gai_strerror(error);
            return 1;
        }
        memcpy(&address->storage, found->ai_addr, found->ai_addrlen);
        address->length = found->ai_addrlen;
        freeaddrinfo(found);
    }
    address->storage.ss_family = (sa_family_t)family;
    if (family == AF_INET)
        in->sin_port = htons((unsigned short)port);
    else
        in6->sin6_port = htons((unsigned short)port);
    return 1;
}

/* 0 for a value that is neither unix:/PATH nor inet:HOST:PORT (a port above 65535 included). */
static int service_address(const char *value, struct address *address)
{
    const char *colon = strchr(value, ':'), *port;
    struct slice kind = {value, colon ? (size_t)(colon - value) : 0};
    char *host, *end;
    long number;

    memset(address, 0, sizeof *address);
    if (!colon)
        return 0;
    if ((equals(kind, "unix") || equals(kind, "local")) && colon[1] == '/')
        return unix_address(colon + 1, address);
    port = strrchr(colon + 1, ':');
    if (!equals(kind, "inet") || !port || port == colon + 1 || !port[1] ||
        strspn(port + 1, "0123456789") != strlen(port + 1))
        return 0;
    errno = 0;
    number = strtol(port + 1, NULL, 10);
    if (errno || number > 65535)
        return 0;
    host = copy((struct slice){colon + 1, (size_t)(port - colon - 1)});
    end = host + strlen(host);
    if (host[0] == '[')
        host++;
    if (end > host && end[-1] == ']')
        end[-1] = '\0';
    return inet_address(host, number, address);
}

/* connect(), finished when a signal interrupts it (the connection goes on: wait until it is made). */
static int connect_fully(int fd, const struct address *address)
{
    struct pollfd poll_fd = {fd, POLLOUT, 0};
    socklen_t length = sizeof(int);
    int error = 0;

    if (connect(fd, (const struct sockaddr *)&address->storage, address->length) == 0)
        return 0;
    if (errno != EINTR)
        return -1;
    while (poll(&poll_fd, 1, -1) < 0)
        if (errno != EINTR)
            return -1;
    if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &error, &length) < 0)
        return -1;
    errno = error;
    return error ? -1 : 0;
}

/* Every byte written, whatever a short write or a signal does; -1 with errno (EPIPE: no SIGPIPE) otherwise. */
static int send_all(int fd, const char *p, size_t n)
{
    while (n) {
        ssize_t sent = send(fd, p, n, MSG_NOSIGNAL);
        if (sent < 0 && errno == EINTR)
            continue;
        if (sent < 0)
            return -1;
        p += sent, n -= (size_t)sent;
    }
    return 0;
}

/* n bytes of stdin, fewer only at its end (as Python's stdin.buffer.read(n)); -1 with errno. */
static ssize_t read_fully(int fd, char *p, size_t n)
{
    size_t got = 0;

    while (got < n) {
        ssize_t r = read(fd, p + got, n - got);
        if (r < 0 && errno == EINTR)
            continue;
        if (r < 0)
            return -1;
        if (r == 0)
            break;
        got += (size_t)r;
    }
    return (ssize_t)got;
}

/* An address that the protocol cannot carry (CR, LF, too long), as protocol.encode_request refuses it: 0. */
static int check_address(const char *name, const char *value)
{
    size_t length = strlen(value);

    if (!strpbrk(value, "\r\n") && length + strlen(name) + 2 <= LINE_LIMIT)
        return 1;
    printf("5.1.3 bad %s address: ", name);
    say_repr((const unsigned char *)value, length, 0);
    return 0;
}

static int send_attribute(int fd, const char *name, const char *value)
{
    char line[LINE_LIMIT + 1];
    int length = snprintf(line, sizeof line, "%s=%s\n", name, value);

    return send_all(fd, line, (size_t)length);
}

/* The envelope, stdin in chunks of READ_SIZE and the end; -1 with errno. */
static int send_request(int fd, const char *sender, char **recipients, int n_recipients)
{
    static char buffer[CHUNK_HEADROOM + READ_SIZE];
    char header[CHUNK_HEADROOM];
    ssize_t got;

    if (send_attribute(fd, "sender", sender) < 0)
        return -1;
    for (int k = 0; k < n_recipients; k++)
        if (send_attribute(fd, "recipient", recipients[k]) < 0)
            return -1;
    if (send_all(fd, "\n", 1) < 0)
        return -1;
    while ((got = read_fully(STDIN_FILENO, buffer + CHUNK_HEADROOM, READ_SIZE)) > 0) {
        size_t length = (size_t)snprintf(header, sizeof header, "%zd\n", got);
        memcpy(buffer + CHUNK_HEADROOM - length, header, length);
        if (send_all(fd, buffer + CHUNK_HEADROOM - length, length + (size_t)got) < 0)
            return -1;
    }
    return got < 0 ? -1 : send_all(fd, "0\n", 2);
}

/* Everything the service says until it closes (more than REPLY_LIMIT is malformed anyway); -1 with errno. */
static ssize_t receive_reply(int fd, char *reply)
{
    size_t got = 0;

    while (got <= REPLY_LIMIT) {
        ssize_t r = recv(fd, reply + got, REPLY_LIMIT, 0);
        if (r < 0 && errno == EINTR)
            continue;
        if (r < 0)
            return -1;
        if (r == 0)
            break;
        got += (size_t)r;
    }
    return (ssize_t)got;
}

/* The status of one reply line `STATUS TEXT\n` (0, 69 or 75, leading zeros allowed as Python's int() allows
 * them), its text in *text; -1 for anything else, as protocol.parse_reply. */
static int parse_reply(const char *reply, size_t length, struct slice *text)
{
    const char *newline = memchr(reply, '\n', length), *space, *digit;
    size_t line, digits;

    if (!newline || (size_t)(newline - reply) + 1 != length || (line = (size_t)(newline - reply)) > LINE_LIMIT)
        return -1;
    space = memchr(reply, ' ', line);
    digits = space ? (size_t)(space - reply) : line;
    for (digit = reply; digit < reply + digits; digit++)
        if (*digit < '0' || *digit > '9')
            return -1;
    for (digit = reply; digit < reply + digits - 1 && *digit == '0'; digit++)
        ;
    text->p = space ? space + 1 : newline;
    text->n = (size_t)(newline - text->p);
    if (!digits || reply + digits - digit > 2)
        return -1;
    int status = atoi(digit);
    return status == 0 || status == EX_UNAVAILABLE || status == EX_TEMPFAIL ? status : -1;
}

static int lost(const char *service, const char *reason)
{
    printf("4.3.0 lost connection with the filterd pipe service %s: %s", service, reason);
    return finish(EX_TEMPFAIL);
}

/* 1 for an envelope that protocol.encode_request would send; 0 with the reason said. */
static int envelope_fits(const char *sender, char **recipients, int n_recipients)
{
    if (n_recipients > RECIPIENT_LIMIT) {
        printf("5.1.3 expected 1 to %d recipients, got %d", RECIPIENT_LIMIT, n_recipients);
        return 0;
    }
    if (!check_address("sender", sender))
        return 0;
    for (int k = 0; k < n_recipients; k++)
        if (!check_address("recipient", recipients[k]))
            return 0;
    return 1;
}

/* A socket connected to the service, or -1 with the reason said. */
static int connected(const char *service, const struct address *address)
{
    int fd = address->error ? -1 : socket(address->storage.ss_family, SOCK_STREAM, 0);

    if (fd >= 0 && connect_fully(fd, address) == 0)
        return fd;
    printf("4.3.0 cannot connect to the filterd pipe service %s: %s", service,
           address->error ? address->error : strerror(errno));
    return -1;
}

/* The reply's status, its text printed, as client.hand_over prints it. */
static int answer(const char *service, const char *reply, size_t length)
{
    struct slice text;
    int status;

    if (!length)
        return lost(service, "no reply");
    if ((status = parse_reply(reply, length, &text)) < 0) {
        printf("4.3.0 lost connection with the filterd pipe service %s: malformed reply ", service);
        say_repr((const unsigned char *)reply, length < 80 ? length : 80, 1);
        return finish(EX_TEMPFAIL);
    }
    if (!text.n)
        return fflush(stdout), status;
    say_decoded((const unsigned char *)text.p, text.n);
    return finish(status);
}

/* The message handed to the service and its answer printed, as client._exchange: the exit status. */
static int exchange(const char *service, const char *sender, char **recipients, int n_recipients)
{
    static char reply[2 * REPLY_LIMIT + 1];
    struct address address;
    ssize_t got;
    int fd;

    if (!service_address(service, &address)) {
        printf("4.3.5 filterd configuration error: " NAME ": bad value \"%s\": expected unix:/PATH or "
               "inet:HOST:PORT", service);
        return finish(EX_TEMPFAIL);
    }
    if (!envelope_fits(sender, recipients, n_recipients))
        return finish(EX_UNAVAILABLE);
    if ((fd = connected(service, &address)) < 0)
        return finish(EX_TEMPFAIL);
    if (send_request(fd, sender, recipients, n_recipients) < 0 || (got = receive_reply(fd, reply)) < 0)
        return lost(service, strerror(errno));
    return answer(service, reply, (size_t)got);
}

int main(int argc, char **argv)
{
    struct command_line line = {0};
    char *service = NULL;
    int found;

    signal(SIGPIPE, SIG_IGN);
    if (!parse_command_line(argc, argv, &line)) {
        say("4.3.5 filterd configuration error: usage: " USAGE);
        return finish(EX_TEMPFAIL);
    }
    if ((found = override_service(&line, &service)) < 0)
        found = main_cf_service(&line, &service);
    if (!found)
        return finish(EX_TEMPFAIL);
    if (!strcmp(line.sender, "<>") || !strcmp(line.sender, "MAILER-DAEMON"))
        line.sender = "";
    return exchange(service, line.sender, line.recipients, line.n_recipients);
}
