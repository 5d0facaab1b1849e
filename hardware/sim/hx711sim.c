/*
 * hx711sim: runs the plate firmware's ELF on a simulated ATmega328P (libsimavr, 16 MHz)
 * wired to emulated HX711 chips, and bridges its UART to stdout or a pseudo-terminal so
 * the host software reads it exactly like a real plate.
 *
 * Each chip is emulated pin by pin from the HX711 datasheet (v2.0): it converts on its own
 * clock (the rates need not match), pulls DOUT low when a word is ready, shifts one bit out
 * per SCK rising edge, takes 25/26/27 pulses as the gain choice for the next conversion,
 * powers down when SCK stays high for more than 60 us and settles again after power-up.
 * Whatever the firmware does outside the datasheet's timing is counted and reported, so a
 * test can assert that it never happens. See README.md for the model and the CLI.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <signal.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <termios.h>
#include <time.h>
#include <unistd.h>

#include <avr_eeprom.h>
#include <avr_ioport.h>
#include <avr_uart.h>
#include <sim_avr.h>
#include <sim_elf.h>
#include <sim_time.h>

#define F_CPU 16000000.0
#define MAX_CHIPS 8
#define MAX_CMDS 64
/* libsimavr 1.6 refuses EEPROM transfers that reach its last byte; the plate id lives at
 * the start anyway. */
#define EEPROM_IO_BYTES 1023
#define US(x) ((avr_cycle_count_t)llround((x) * F_CPU / 1e6))

/* Datasheet timing, in microseconds. */
#define SCK_HIGH_MIN_US 0.2
#define SCK_LOW_MIN_US 0.2
#define SCK_HIGH_MAX_US 50.0
#define POWER_DOWN_US 60.0
#define DOUT_DELAY_US 0.1 /* rising SCK to valid DOUT (T2) */
#define SETTLE_PERIODS 4  /* 50 ms at 80 SPS, 400 ms at 10 SPS */
#define BURST_GAP_US 10.0 /* SCK low this long ends a burst of pulses */

/* ------------------------------------------------------------------ load script ---- */

typedef struct {
  double t_s;
  int32_t counts[MAX_CHIPS];
} script_row_t;

typedef struct {
  int chip;
  double from_s, to_s;
} unplug_t;

static script_row_t *rows;
static size_t n_rows;
static unplug_t unplugs[64];
static int n_unplugs;

static void die(const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  fputs("hx711sim: ", stderr);
  vfprintf(stderr, fmt, ap);
  fputc('\n', stderr);
  va_end(ap);
  exit(2);
}

static void load_script(const char *path, int n_chips) {
  FILE *f = fopen(path, "r");
  if (!f) die("cannot open load script %s: %s", path, strerror(errno));
  char line[1024];
  size_t cap = 0;
  int lineno = 0;
  while (fgets(line, sizeof line, f)) {
    lineno++;
    char *hash = strchr(line, '#');
    if (hash) *hash = '\0';
    char *p = line;
    while (*p == ' ' || *p == '\t') p++;
    if (*p == '\0' || *p == '\n' || *p == '\r') continue;
    if (strncmp(p, "disconnect", 10) == 0) {
      unplug_t u;
      if (sscanf(p + 10, "%d %lf %lf", &u.chip, &u.from_s, &u.to_s) != 3 || u.chip < 0 ||
          u.chip >= n_chips || u.to_s <= u.from_s || n_unplugs >= 64)
        die("%s:%d: expected 'disconnect CHIP FROM_S TO_S'", path, lineno);
      unplugs[n_unplugs++] = u;
      continue;
    }
    if (n_rows == cap) {
      cap = cap ? 2 * cap : 256;
      rows = realloc(rows, cap * sizeof *rows);
      if (!rows) die("out of memory");
    }
    script_row_t *r = &rows[n_rows];
    char *end;
    r->t_s = strtod(p, &end);
    if (end == p) die("%s:%d: expected 't_s c0 c1 ...'", path, lineno);
    for (int c = 0; c < n_chips; c++) {
      p = end;
      long v = strtol(p, &end, 0);
      if (end == p) die("%s:%d: needs a count for each of the %d chips", path, lineno, n_chips);
      r->counts[c] = (int32_t)v;
    }
    if (n_rows && r->t_s < rows[n_rows - 1].t_s) die("%s:%d: times must not go back", path, lineno);
    n_rows++;
  }
  fclose(f);
}

/* The count a chip converts at time t: the last script row at or before t (the first row
 * before the script starts). */
static int32_t script_count(int chip, double t_s, size_t *cursor) {
  if (n_rows == 0) return 0;
  while (*cursor + 1 < n_rows && rows[*cursor + 1].t_s <= t_s) (*cursor)++;
  return rows[*cursor].counts[chip];
}

/* ------------------------------------------------------------------------ chips ---- */

typedef struct {
  int index;
  double rate_hz;
  double period_cycles;
  avr_irq_t *dout_irq;
  char port; /* DOUT pin: port letter and bit */
  int bit;
  int plugged, powered;
  avr_cycle_count_t up_cycle; /* last power-up: conversions count from here */
  uint64_t k;                 /* index of the next conversion since power-up */
  int updating;               /* next event: 0 = update starts, 1 = word ready */
  int gain;                   /* 128, 64 (channel A) or 32 (channel B) */
  /* serial interface */
  int loaded;                 /* a word is in the output register */
  uint32_t word;
  double word_t_s;
  int32_t word_count;
  int pulses;                 /* SCK rising edges since the word was loaded */
  int closed;                 /* the read and its gain pulses are over */
  int dout, dout_next;
  avr_cycle_count_t ready_cycle, last_rise_cycle;
  size_t cursor;
  /* report */
  uint64_t conversions, reads, unread, overlaps, abandoned, gain_changes, serial_errors,
      busy_pulses, t1_violations;
} chip_t;

static avr_t *avr;
static chip_t chips[MAX_CHIPS];
static int n_chips;
static FILE *trace;
static double update_us = 75.0;

/* SCK line state, shared by all chips. */
static int sck;
static avr_cycle_count_t sck_rise, sck_fall;
static int powered_down;
static uint64_t powerdowns, short_high, short_low, long_high;
static double max_high_us; /* longest SCK pulse that did not power the chips down */

static double now_s(void) { return avr->cycle / F_CPU; }

static void note(const char *fmt, ...) {
  va_list ap;
  fprintf(stderr, "hx711sim: t=%.6f s: ", now_s());
  va_start(ap, fmt);
  vfprintf(stderr, fmt, ap);
  va_end(ap);
  fputc('\n', stderr);
}

static void violation(chip_t *c, const char *kind) {
  if (trace) fprintf(trace, "violation %d %.9f %s\n", c ? c->index : -1, now_s(), kind);
  if (c)
    note("chip %d: %s", c->index, kind);
  else
    note("%s", kind);
}

/* DOUT levels per port, registered as "external" drive: without that, simavr lets the
 * firmware's pull-up (PORT bit 1) override the pin on every write to the port. */
static avr_ioport_external_t port_drive[3];

static void drive(chip_t *c, int level) {
  c->dout = level;
  /* An unplugged DOUT floats; the firmware's pull-up makes it read high. */
  int pin = c->plugged ? level : 1;
  avr_ioport_external_t *e = &port_drive[c->port - 'B'];
  e->mask |= 1 << c->bit;
  e->value = (e->value & ~(1 << c->bit)) | (pin << c->bit);
  avr_ioctl(avr, AVR_IOCTL_IOPORT_SET_EXTERNAL(c->port), e);
  avr_raise_irq(c->dout_irq, pin);
}

static avr_cycle_count_t dout_delayed(avr_t *a, avr_cycle_count_t when, void *param) {
  (void)a;
  (void)when;
  chip_t *c = param;
  drive(c, c->dout_next);
  return 0;
}

static avr_cycle_count_t chip_event(avr_t *a, avr_cycle_count_t when, void *param);

static avr_cycle_count_t next_event_cycle(chip_t *c) {
  avr_cycle_count_t ready = c->up_cycle + llround((SETTLE_PERIODS + c->k) * c->period_cycles);
  return c->updating ? ready : ready - US(update_us);
}

static void power_up(chip_t *c) {
  c->powered = 1;
  c->up_cycle = avr->cycle;
  c->k = 0;
  c->updating = 0;
  c->gain = 128;
  c->loaded = 0;
  c->pulses = 0;
  drive(c, 1); /* busy while settling */
  avr_cycle_timer_register(avr, next_event_cycle(c) - avr->cycle, chip_event, c);
}

static void power_off(chip_t *c) {
  c->powered = 0;
  c->loaded = 0;
  avr_cycle_timer_cancel(avr, chip_event, c);
  avr_cycle_timer_cancel(avr, dout_delayed, c);
  drive(c, 1);
}

/* The pulses after the 24th choose the next conversion's input and gain: 25 = channel A
 * gain 128 (what the firmware must always send), 26 = channel B gain 32, 27 = channel A
 * gain 64. The count closes at the end of the burst that carried the 25th pulse; pulses
 * after that, until the next conversion, find the chip busy like any other. */
static void close_read(chip_t *c) {
  int p = c->pulses;
  c->closed = 1;
  if (p == 26 || p == 27) {
    c->gain_changes++;
    c->gain = p == 26 ? 32 : 64;
    violation(c, p == 26 ? "26 pulses: switched to channel B gain 32"
                         : "27 pulses: switched to channel A gain 64");
  } else if (p > 27) {
    c->serial_errors++;
    violation(c, "more than 27 pulses in one read");
  }
}

/* How the last read ended, judged when the chip replaces its word. */
static void finish_communication(chip_t *c) {
  if (!c->loaded || c->closed) return;
  if (c->pulses == 0) {
    c->unread++;
  } else if (c->pulses < 25) {
    /* A new conversion cut into a read still being clocked, or a read stopped early. */
    if (avr->cycle - c->last_rise_cycle < US(100)) {
      c->overlaps++;
      violation(c, "conversion update during a read (the word read mixes two conversions)");
    } else {
      c->abandoned++;
      violation(c, "read stopped before the 25th pulse (gain for the next conversion undefined)");
    }
  } else {
    close_read(c);
  }
}

static avr_cycle_count_t chip_event(avr_t *a, avr_cycle_count_t when, void *param) {
  (void)when;
  chip_t *c = param;
  avr_cycle_timer_cancel(a, dout_delayed, c); /* the register change wins over a pending bit */
  if (!c->updating) {
    /* The output register is being replaced: DOUT goes (or stays) high for update_us. */
    finish_communication(c);
    c->loaded = 0;
    drive(c, 1);
    c->updating = 1;
  } else {
    int32_t v = script_count(c->index, now_s(), &c->cursor);
    int64_t scaled = (int64_t)v * c->gain / 128;
    if (scaled > 0x7FFFFF) scaled = 0x7FFFFF;
    if (scaled < -0x800000) scaled = -0x800000;
    c->word_count = (int32_t)scaled;
    c->word = (uint32_t)scaled & 0xFFFFFF;
    c->word_t_s = now_s();
    c->loaded = 1;
    c->closed = 0;
    c->pulses = 0;
    c->ready_cycle = a->cycle;
    c->conversions++;
    c->k++;
    c->updating = 0;
    drive(c, 0);
  }
  return next_event_cycle(c);
}

static void chip_sck_rise(chip_t *c) {
  if (!c->plugged || !c->powered) return;
  if (c->loaded && !c->closed && c->pulses >= 25 && avr->cycle - sck_fall > US(BURST_GAP_US))
    close_read(c);
  if (!c->loaded || c->closed) {
    c->busy_pulses++; /* no data to shift; the shared SCK makes these normal */
    return;
  }
  if (c->pulses == 0 && avr->cycle - c->ready_cycle < US(0.1)) {
    c->t1_violations++;
    violation(c, "first SCK pulse less than 0.1 us after DOUT fell");
  }
  c->pulses++;
  c->last_rise_cycle = avr->cycle;
  if (c->pulses <= 24) {
    c->dout_next = (c->word >> (24 - c->pulses)) & 1;
  } else {
    c->dout_next = 1;
    if (c->pulses == 25) {
      c->reads++;
      if (trace)
        fprintf(trace, "read %d %.9f %.9f %d\n", c->index, c->word_t_s, now_s(), c->word_count);
    }
  }
  avr_cycle_timer_register(avr, US(DOUT_DELAY_US) ? US(DOUT_DELAY_US) : 1, dout_delayed, c);
}

static avr_cycle_count_t power_down_check(avr_t *a, avr_cycle_count_t when, void *param) {
  (void)a;
  (void)when;
  (void)param;
  if (!sck || powered_down) return 0;
  powered_down = 1;
  powerdowns++;
  note("SCK high for more than %.0f us: chips powered down", POWER_DOWN_US);
  if (trace) fprintf(trace, "powerdown %.9f\n", now_s());
  for (int i = 0; i < n_chips; i++)
    if (chips[i].powered) {
      finish_communication(&chips[i]);
      power_off(&chips[i]);
    }
  return 0;
}

static void sck_changed(avr_irq_t *irq, uint32_t value, void *param) {
  (void)irq;
  (void)param;
  int level = value != 0;
  if (level == sck) return;
  sck = level;
  if (level) {
    if (sck_fall && avr->cycle - sck_fall < US(SCK_LOW_MIN_US)) {
      short_low++;
      violation(NULL, "SCK low for less than 0.2 us");
    }
    sck_rise = avr->cycle;
    for (int i = 0; i < n_chips; i++) chip_sck_rise(&chips[i]);
    avr_cycle_timer_register(avr, US(POWER_DOWN_US), power_down_check, NULL);
  } else {
    double high_us = (avr->cycle - sck_rise) * 1e6 / F_CPU;
    sck_fall = avr->cycle;
    avr_cycle_timer_cancel(avr, power_down_check, NULL);
    if (high_us < SCK_HIGH_MIN_US) {
      short_high++;
      violation(NULL, "SCK high for less than 0.2 us");
    }
    if (powered_down) {
      powered_down = 0;
      note("SCK low after %.1f us high: chips power up and settle", high_us);
      for (int i = 0; i < n_chips; i++)
        if (chips[i].plugged) power_up(&chips[i]);
    } else {
      if (high_us > max_high_us) max_high_us = high_us;
      if (high_us > SCK_HIGH_MAX_US) {
        long_high++;
        violation(NULL, "SCK high for more than 50 us");
      }
    }
  }
}

static avr_cycle_count_t unplug_event(avr_t *a, avr_cycle_count_t when, void *param) {
  (void)a;
  (void)when;
  unplug_t *u = param;
  chip_t *c = &chips[u->chip];
  if (c->plugged) {
    note("chip %d unplugged", c->index);
    if (c->powered) power_off(c);
    c->plugged = 0;
    drive(c, 1);
    return US(u->to_s * 1e6);
  }
  /* Plugged back in: it powers up like a fresh chip (SCK is low between trains). */
  note("chip %d plugged in", c->index);
  c->plugged = 1;
  if (!powered_down) power_up(c);
  return 0;
}

/* ------------------------------------------------------------------------- UART ---- */

static int out_fd = 1;
static int pty_mode;
static uint64_t uart_tx, uart_rx, tx_dropped;
static unsigned char outbuf[1 << 16];
static size_t outlen;
static unsigned char inq[4096];
static size_t inq_head, inq_tail;
static int uart_xon = 1;
static avr_irq_t *uart_in_irq;

static void flush_out(void) {
  size_t off = 0;
  while (off < outlen) {
    ssize_t n = write(out_fd, outbuf + off, outlen - off);
    if (n > 0) {
      off += n;
    } else if (n < 0 && errno == EINTR) {
      continue;
    } else if (n < 0 && errno == EAGAIN && pty_mode) {
      tx_dropped += outlen - off; /* nobody reading the pty: a real plate's bytes would be lost too */
      break;
    } else {
      if (!pty_mode) exit(0); /* stdout closed by the reader */
      break;
    }
  }
  outlen = 0;
}

static void uart_out(avr_irq_t *irq, uint32_t value, void *param) {
  (void)irq;
  (void)param;
  uart_tx++;
  outbuf[outlen++] = (unsigned char)value;
  if (outlen == sizeof outbuf) flush_out();
}

static void feed_uart(void) {
  while (uart_xon && inq_tail != inq_head) {
    uart_rx++;
    avr_raise_irq(uart_in_irq, inq[inq_tail]);
    inq_tail = (inq_tail + 1) % sizeof inq;
  }
}

static void uart_xon_hook(avr_irq_t *irq, uint32_t value, void *param) {
  (void)irq;
  (void)value;
  (void)param;
  uart_xon = 1;
  feed_uart();
}

static void uart_xoff_hook(avr_irq_t *irq, uint32_t value, void *param) {
  (void)irq;
  (void)value;
  (void)param;
  uart_xon = 0;
}

static void queue_input(const char *bytes, size_t n) {
  for (size_t i = 0; i < n; i++) {
    size_t next = (inq_head + 1) % sizeof inq;
    if (next == inq_tail) break;
    inq[inq_head] = bytes[i];
    inq_head = next;
  }
  feed_uart();
}

/* --------------------------------------------------------------- run control ---- */

typedef struct {
  double t_s;
  char text[64];
} cmd_t;

static cmd_t cmds[MAX_CMDS];
static int n_cmds, next_cmd;
static int pty_master = -1;
static int realtime;
static struct timespec wall0;
static volatile sig_atomic_t stop_requested;

static double wall_s(void) {
  struct timespec t;
  clock_gettime(CLOCK_MONOTONIC, &t);
  return (t.tv_sec - wall0.tv_sec) + (t.tv_nsec - wall0.tv_nsec) / 1e9;
}

/* Every simulated millisecond: scheduled commands, pty input, output and pacing. */
static avr_cycle_count_t tick(avr_t *a, avr_cycle_count_t when, void *param) {
  (void)a;
  (void)param;
  double t = now_s();
  while (next_cmd < n_cmds && cmds[next_cmd].t_s <= t) {
    queue_input(cmds[next_cmd].text, strlen(cmds[next_cmd].text));
    queue_input("\n", 1);
    next_cmd++;
  }
  if (pty_master >= 0) {
    char buf[256];
    ssize_t n = read(pty_master, buf, sizeof buf);
    if (n > 0) queue_input(buf, n);
    flush_out();
  }
  if (realtime) {
    double ahead = t - wall_s();
    if (ahead > 0.002) {
      if (pty_master < 0) flush_out();
      struct timespec d = {0, (long)(ahead * 1e9)};
      nanosleep(&d, NULL);
    }
  }
  return when + US(1000);
}

/* simavr's own messages go to stderr: stdout may be carrying the plate's bytes. */
static void sim_logger(avr_t *a, const int level, const char *fmt, va_list ap) {
  (void)a;
  if (level > LOG_WARNING) return;
  fputs("simavr: ", stderr);
  vfprintf(stderr, fmt, ap);
}

static void on_signal(int sig) {
  (void)sig;
  stop_requested = 1;
}

static const char *pty_link;

static void open_pty(const char *link) {
  pty_master = posix_openpt(O_RDWR | O_NOCTTY);
  if (pty_master < 0 || grantpt(pty_master) || unlockpt(pty_master))
    die("cannot create a pseudo-terminal: %s", strerror(errno));
  const char *slave = ptsname(pty_master);
  /* Keep the slave open and raw: frames are binary, and the line discipline must neither
   * translate CR/NL nor echo before the reader has configured the port. */
  int sfd = open(slave, O_RDWR | O_NOCTTY);
  if (sfd < 0) die("cannot open %s: %s", slave, strerror(errno));
  struct termios tio;
  tcgetattr(sfd, &tio);
  cfmakeraw(&tio);
  cfsetspeed(&tio, B115200);
  tcsetattr(sfd, TCSANOW, &tio);
  fcntl(pty_master, F_SETFL, fcntl(pty_master, F_GETFL) | O_NONBLOCK);
  unlink(link);
  if (symlink(slave, link)) die("cannot link %s -> %s: %s", link, slave, strerror(errno));
  pty_link = link;
  close(out_fd);
  out_fd = pty_master;
  fprintf(stderr, "hx711sim: plate on %s (%s)\n", link, slave);
}

static int parse_pin(const char *s, char *port, int *bit) {
  int n;
  if ((s[0] == 'D' || s[0] == 'd') && sscanf(s + 1, "%d", &n) == 1 && n >= 0 && n <= 13) {
    *port = n < 8 ? 'D' : 'B';
    *bit = n < 8 ? n : n - 8;
    return 0;
  }
  if ((s[0] == 'A' || s[0] == 'a') && sscanf(s + 1, "%d", &n) == 1 && n >= 0 && n <= 5) {
    *port = 'C';
    *bit = n;
    return 0;
  }
  return -1;
}

static void usage(void) {
  fputs(
      "usage: hx711sim --elf FIRMWARE.elf [--script LOAD.txt] [--rates 80,80,80,80]\n"
      "                [--seconds S] [--stdout | --pty LINK] [--realtime | --fast]\n"
      "                [--cmd T_S:TEXT]... [--trace FILE] [--eeprom FILE]\n"
      "                [--sck D8] [--dout D4,D5,D6,D7] [--update-us 75]\n",
      stderr);
  exit(2);
}

int main(int argc, char **argv) {
  const char *elf = NULL, *script = NULL, *pty = NULL, *trace_path = NULL, *eeprom_path = NULL;
  const char *rates = "80,80,80,80", *sck_pin = "D8", *dout_pins = "D4,D5,D6,D7,A0,A1,A2,A3";
  double seconds = 0;
  int fast = 0, paced = 0;
  for (int i = 1; i < argc; i++) {
    const char *a = argv[i];
    const char *v = i + 1 < argc ? argv[i + 1] : NULL;
    if (!strcmp(a, "--stdout")) continue;
    if (!strcmp(a, "--fast")) { fast = 1; continue; }
    if (!strcmp(a, "--realtime")) { paced = 1; continue; }
    if (!v) usage();
    i++;
    if (!strcmp(a, "--elf")) elf = v;
    else if (!strcmp(a, "--script")) script = v;
    else if (!strcmp(a, "--rates")) rates = v;
    else if (!strcmp(a, "--seconds")) seconds = atof(v);
    else if (!strcmp(a, "--pty")) pty = v;
    else if (!strcmp(a, "--trace")) trace_path = v;
    else if (!strcmp(a, "--eeprom")) eeprom_path = v;
    else if (!strcmp(a, "--sck")) sck_pin = v;
    else if (!strcmp(a, "--dout")) dout_pins = v;
    else if (!strcmp(a, "--update-us")) update_us = atof(v);
    else if (!strcmp(a, "--cmd")) {
      const char *colon = strchr(v, ':');
      if (!colon || n_cmds == MAX_CMDS) usage();
      cmds[n_cmds].t_s = atof(v);
      snprintf(cmds[n_cmds].text, sizeof cmds[n_cmds].text, "%s", colon + 1);
      if (n_cmds && cmds[n_cmds].t_s < cmds[n_cmds - 1].t_s) die("--cmd times must not go back");
      n_cmds++;
    } else usage();
  }
  if (!elf) usage();
  realtime = pty ? !fast : paced;

  for (const char *p = rates; *p && n_chips < MAX_CHIPS;) {
    char *end;
    double r = strtod(p, &end);
    if (end == p || r <= 0) die("--rates needs positive numbers, e.g. 80,80,79.3,10");
    chips[n_chips].rate_hz = r;
    chips[n_chips].period_cycles = F_CPU / r;
    n_chips++;
    p = *end == ',' ? end + 1 : end;
  }
  if (script) load_script(script, n_chips);

  avr_global_logger_set(sim_logger);
  /* Plate bytes go to the original stdout through out_fd; anything libsimavr prints with
   * printf lands on stderr instead of corrupting them. */
  out_fd = dup(STDOUT_FILENO);
  dup2(STDERR_FILENO, STDOUT_FILENO);
  elf_firmware_t fw;
  memset(&fw, 0, sizeof fw);
  if (elf_read_firmware(elf, &fw)) die("cannot read firmware %s", elf);
  fw.vcc = fw.avcc = fw.aref = 5000; /* mV, as on an Uno; the ADC needs them */
  avr = avr_make_mcu_by_name("atmega328p");
  if (!avr) die("simavr has no atmega328p");
  avr_init(avr);
  avr->frequency = (uint32_t)F_CPU;
  avr->log = LOG_ERROR;
  avr_load_firmware(avr, &fw);

  if (eeprom_path) {
    FILE *f = fopen(eeprom_path, "rb");
    if (f) {
      static uint8_t ee[EEPROM_IO_BYTES];
      size_t n = fread(ee, 1, sizeof ee, f);
      fclose(f);
      avr_eeprom_desc_t d = {.ee = ee, .offset = 0, .size = (uint32_t)n};
      if (n) avr_ioctl(avr, AVR_IOCTL_EEPROM_SET, &d);
    }
  }

  char port;
  int bit;
  if (parse_pin(sck_pin, &port, &bit)) die("bad --sck pin %s (use D0-D13 or A0-A5)", sck_pin);
  avr_irq_register_notify(avr_io_getirq(avr, AVR_IOCTL_IOPORT_GETIRQ(port), bit), sck_changed,
                          NULL);
  char pins[128];
  snprintf(pins, sizeof pins, "%s", dout_pins);
  char *save = NULL, *tok = strtok_r(pins, ",", &save);
  for (int i = 0; i < n_chips; i++, tok = strtok_r(NULL, ",", &save)) {
    if (!tok || parse_pin(tok, &port, &bit)) die("--dout needs a pin for each of the %d chips", n_chips);
    chip_t *c = &chips[i];
    c->index = i;
    c->plugged = 1;
    c->port = port;
    c->bit = bit;
    c->dout_irq = avr_io_getirq(avr, AVR_IOCTL_IOPORT_GETIRQ(port), bit);
    power_up(c); /* the chips get power with the board */
  }
  for (int i = 0; i < n_unplugs; i++)
    avr_cycle_timer_register(avr, US(unplugs[i].from_s * 1e6), unplug_event, &unplugs[i]);

  uint32_t flags = 0;
  avr_ioctl(avr, AVR_IOCTL_UART_SET_FLAGS('0'), &flags); /* no console echo, no poll sleeps */
  avr_irq_register_notify(avr_io_getirq(avr, AVR_IOCTL_UART_GETIRQ('0'), UART_IRQ_OUTPUT),
                          uart_out, NULL);
  uart_in_irq = avr_io_getirq(avr, AVR_IOCTL_UART_GETIRQ('0'), UART_IRQ_INPUT);
  avr_irq_register_notify(avr_io_getirq(avr, AVR_IOCTL_UART_GETIRQ('0'), UART_IRQ_OUT_XON),
                          uart_xon_hook, NULL);
  avr_irq_register_notify(avr_io_getirq(avr, AVR_IOCTL_UART_GETIRQ('0'), UART_IRQ_OUT_XOFF),
                          uart_xoff_hook, NULL);

  if (trace_path) {
    trace = fopen(trace_path, "w");
    if (!trace) die("cannot write %s: %s", trace_path, strerror(errno));
    fprintf(trace, "# hx711sim trace: read CHIP T_CONV_S T_READ_S COUNT | powerdown T_S | "
                   "violation CHIP T_S TEXT\n");
  }
  signal(SIGPIPE, SIG_IGN);
  signal(SIGINT, on_signal);
  signal(SIGTERM, on_signal);
  if (pty) {
    pty_mode = 1;
    open_pty(pty);
  }

  clock_gettime(CLOCK_MONOTONIC, &wall0);
  avr_cycle_timer_register(avr, US(1000), tick, NULL);
  avr_cycle_count_t end = seconds > 0 ? (avr_cycle_count_t)llround(seconds * F_CPU) : 0;
  int state = cpu_Running;
  while (!stop_requested && (end == 0 || avr->cycle < end)) {
    state = avr_run(avr);
    if (state == cpu_Done || state == cpu_Crashed) break;
  }
  flush_out();
  double wall = wall_s();

  if (eeprom_path) {
    static uint8_t ee[EEPROM_IO_BYTES];
    avr_eeprom_desc_t d = {.ee = ee, .offset = 0, .size = sizeof ee};
    avr_ioctl(avr, AVR_IOCTL_EEPROM_GET, &d); /* returns -1 even when it worked */
    FILE *f = fopen(eeprom_path, "wb");
    if (!f || fwrite(ee, 1, sizeof ee, f) != sizeof ee) die("cannot write %s", eeprom_path);
    fclose(f);
  }
  if (trace) fclose(trace);
  if (pty_link) unlink(pty_link);

  fprintf(stderr,
          "hx711sim: summary sim_s=%.3f wall_s=%.3f speed=%.2f powerdowns=%llu short_high=%llu "
          "short_low=%llu long_high=%llu max_high_us=%.2f uart_tx=%llu uart_rx=%llu "
          "tx_dropped=%llu crashed=%d\n",
          now_s(), wall, wall > 0 ? now_s() / wall : 0.0, (unsigned long long)powerdowns,
          (unsigned long long)short_high, (unsigned long long)short_low,
          (unsigned long long)long_high, max_high_us, (unsigned long long)uart_tx, (unsigned long long)uart_rx,
          (unsigned long long)tx_dropped, state == cpu_Crashed);
  for (int i = 0; i < n_chips; i++) {
    chip_t *c = &chips[i];
    fprintf(stderr,
            "hx711sim: chip=%d rate_hz=%g conversions=%llu reads=%llu unread=%llu overlaps=%llu "
            "abandoned=%llu gain_changes=%llu serial_errors=%llu busy_pulses=%llu "
            "t1_violations=%llu\n",
            i, c->rate_hz, (unsigned long long)c->conversions, (unsigned long long)c->reads,
            (unsigned long long)c->unread, (unsigned long long)c->overlaps,
            (unsigned long long)c->abandoned, (unsigned long long)c->gain_changes,
            (unsigned long long)c->serial_errors, (unsigned long long)c->busy_pulses,
            (unsigned long long)c->t1_violations);
  }
  return state == cpu_Crashed ? 1 : 0;
}
