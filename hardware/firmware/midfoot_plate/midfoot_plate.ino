/*
 * midfoot plate firmware: 4 (up to 8) HX711 load-cell amplifiers on one shared SCK line,
 * streamed to the host as raw counts in the midfoot wire protocol v1 (PROTOCOL.md).
 *
 * The device only measures. Tare, scaling and filtering happen on the host, so every
 * recording can be re-calibrated later. Wiring, building and flashing: hardware/README.md.
 */
#include <avr/eeprom.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <util/crc16.h>

// ------------------------------------------------------------------ configuration ----
// Everything a plate builder may change is in this block. The Makefile can override the
// #ifndef values with -D flags (make CHANNELS=8 RATE_HZ=10).
#ifndef MIDFOOT_CHANNELS
#define MIDFOOT_CHANNELS 4  // HX711 chips: 4 = one plate, 8 = two plates (4-7 = plate B)
#endif
#ifndef MIDFOOT_RATE_HZ
#define MIDFOOT_RATE_HZ 80  // how the chips' RATE pins are wired: 80 (to VCC) or 10 (to GND)
#endif
#ifndef MIDFOOT_BAUD
#define MIDFOOT_BAUD 115200  // 4 channels x 80 Hz x 29 B = 2320 B/s, a fifth of the line
#endif

// D0/D1 are the serial port; D2/D3 (INT0/INT1) and D9-D13 (PWM, SPI, LED) stay free.
const uint8_t PIN_SCK = 8;  // PD_SCK of every chip, all on this one pin
const uint8_t PIN_DOUT[8] = {
    4, 5, 6, 7,        // ch0 front-left, ch1 front-right, ch2 back-right, ch3 back-left
    A0, A1, A2, A3,    // ch4-7: the same corners of plate B
};

#define FW_VERSION "0.1.0"
#if defined(ARDUINO_AVR_NANO)
#define BOARD_NAME "nano"
#else
#define BOARD_NAME "uno"
#endif
// -------------------------------------------------------------------------------------

#if MIDFOOT_CHANNELS < 1 || MIDFOOT_CHANNELS > 8
#error "MIDFOOT_CHANNELS must be 1..8 (the protocol carries at most 8 counts)"
#endif
#if MIDFOOT_RATE_HZ != 80 && MIDFOOT_RATE_HZ != 10
#error "MIDFOOT_RATE_HZ must be 80 or 10, the two HX711 rates"
#endif

const uint8_t N_CH = MIDFOOT_CHANNELS;
const uint32_t PERIOD_US = 1000000UL / MIDFOOT_RATE_HZ;
// Datasheet settling after power-up: 50 ms at 80 SPS, 400 ms at 10 SPS.
const uint32_t SETTLE_US = MIDFOOT_RATE_HZ == 80 ? 50000UL : 400000UL;
// Chips on their own oscillators run a few percent off nominal; a frame waits this long
// for a late chip before sending it as stale.
const uint32_t FRAME_DEADLINE_US = PERIOD_US + PERIOD_US / 4;
const uint32_t LEARN_TIMEOUT_US = SETTLE_US + 4 * PERIOD_US;
// No pulse train within this distance of a predicted conversion: a conversion that lands
// mid-read mixes two words, and one that becomes ready mid-train gets a partial read.
const uint32_t KEEP_OUT_US = 300;
// An unread chip lifts DOUT for ~75 us while it replaces its output word; a high run this
// short is that update, i.e. a genuine conversion edge.
const uint32_t BLIP_MAX_US = 200;
const uint32_t SILENT_US = 500000UL;  // "stopped answering" after this long without data
// A falling edge seen within this long of the last "high" poll is timed well enough to
// measure the chip's period and phase; after a slow loop pass (a pulse train, a frame) it
// is only a rough mark.
const uint32_t EDGE_SLOP_US = 100;
const uint32_t PERIOD_MIN_US = 5000UL;
const uint32_t EDGE_GAP_MAX_US = 1000000UL;

const uint8_t TYPE_SAMPLE = 0x01, TYPE_INFO = 0x02, TYPE_LOG = 0x03;

// Per-chip state flags.
enum {
  F_HIGH = 1,     // DOUT is high (busy) since highUs
  F_CLOCKED = 2,  // we read the chip, so its next falling DOUT is a conversion edge
  F_EDGE = 4,     // edgeUs is timed well enough to measure the next period from
  F_PHASE = 8,    // nextUs predicts the next conversion edge
  F_SILENT = 16,  // no data for SILENT_US (LOG sent)
  F_RATE_WARNED = 32,
};

struct Chip {
  uint8_t port;       // index into inPorts
  uint8_t mask;       // DOUT bit in that port
  uint8_t flags;
  int32_t count;      // last value read; repeated while stale
  uint32_t lowUs;     // last time DOUT was seen low (data ready)
  uint32_t highUs;    // start of the current high run
  uint32_t highSeenUs;  // last time DOUT was seen high: a falling edge is later than this
  uint32_t edgeUs;    // last conversion edge seen
  uint32_t nextUs;    // predicted next conversion edge
  uint32_t periodUs;  // measured conversion period, 0 until known
};

Chip chips[N_CH];
volatile uint8_t *inPorts[3];  // the distinct input ports holding DOUT pins
uint8_t nPorts;
volatile uint8_t *sckPort;
uint8_t sckMask;
// Port snapshots of one pulse train: [0] before the first pulse, [k] after pulse k.
uint8_t snap[26][3];

uint16_t seq;
uint32_t lastTrainUs;
bool learning;
uint32_t learnStartUs;
bool streaming = true;

uint32_t plateId;
bool idReady;
bool infoPending;

// Frames wait here rather than in Serial's 64-byte buffer so that writing one never
// blocks the loop (INFO alone is longer than 64 bytes).
uint8_t txBuf[256];
uint8_t txHead, txTail;  // 8-bit indices wrap with the buffer

char cmdBuf[16];
uint8_t cmdLen;
bool cmdTooLong;

const char NAME_0[] PROGMEM = "front-left";
const char NAME_1[] PROGMEM = "front-right";
const char NAME_2[] PROGMEM = "back-right";
const char NAME_3[] PROGMEM = "back-left";
const char *const CORNER_NAMES[4] PROGMEM = {NAME_0, NAME_1, NAME_2, NAME_3};

// ------------------------------------------------------------------------ output ----

uint8_t txFree() { return 255 - (uint8_t)(txHead - txTail); }

// Queue one whole frame, or nothing if it does not fit (a dropped SAMPLE shows up on the
// host as a gap in seq).
bool sendFrame(uint8_t type, const uint8_t *payload, uint8_t len) {
  if (txFree() < (uint16_t)len + 6) return false;
  uint16_t crc = 0xFFFF;  // CRC-16/CCITT-FALSE: XMODEM's polynomial from 0xFFFF
  txBuf[txHead++] = 0xA5;
  txBuf[txHead++] = 0x5A;
  txBuf[txHead++] = type;
  crc = _crc_xmodem_update(crc, type);
  txBuf[txHead++] = len;
  crc = _crc_xmodem_update(crc, len);
  for (uint8_t i = 0; i < len; i++) {
    txBuf[txHead++] = payload[i];
    crc = _crc_xmodem_update(crc, payload[i]);
  }
  txBuf[txHead++] = crc & 0xFF;
  txBuf[txHead++] = crc >> 8;
  return true;
}

void pumpTx() {
  int room = Serial.availableForWrite();
  while (room-- > 0 && txTail != txHead) Serial.write(txBuf[txTail++]);
}

void sendLog(const char *text) { sendFrame(TYPE_LOG, (const uint8_t *)text, strlen(text)); }

// "ch2 (back-right): ..." -- the corner name saves looking up the channel order.
void logChip(uint8_t i, const char *fmt_P, ...) {
  char text[100];
  int n = snprintf_P(text, sizeof text, PSTR("ch%u (%s%S): "), i,
                     (N_CH > 4) ? (i < 4 ? "plate A " : "plate B ") : "",
                     (const char *)pgm_read_word(&CORNER_NAMES[i & 3]));
  va_list ap;
  va_start(ap, fmt_P);
  vsnprintf_P(text + n, sizeof text - n, fmt_P, ap);
  va_end(ap);
  sendLog(text);
}

void sendInfo() {
  char text[112];
  int n = snprintf_P(text, sizeof text,
                     PSTR("proto=1;fw=" FW_VERSION ";board=" BOARD_NAME
                          ";adc=hx711;channels=%u;rate_hz=%u;baud=%lu;plate_id=mf-%08lx"),
                     N_CH, MIDFOOT_RATE_HZ, (unsigned long)MIDFOOT_BAUD, (unsigned long)plateId);
  infoPending = !sendFrame(TYPE_INFO, (const uint8_t *)text, n);
}

// ------------------------------------------------------------------------ plate id ----
// EEPROM bytes 0-8: "mfp1", the id (little-endian) and its CRC-8, so a blank or foreign
// EEPROM is never mistaken for an id.
const uint8_t EE_MAGIC[4] = {'m', 'f', 'p', '1'};

uint8_t idCheck(uint32_t id) {
  uint8_t crc = 0;
  for (uint8_t i = 0; i < 4; i++) crc = _crc8_ccitt_update(crc, (uint8_t)(id >> (8 * i)));
  return crc;
}

bool loadPlateId() {
  uint8_t rec[9];
  eeprom_read_block(rec, (const void *)0, sizeof rec);
  if (memcmp(rec, EE_MAGIC, 4) != 0) return false;
  uint32_t id = 0;
  for (uint8_t i = 0; i < 4; i++) id |= (uint32_t)rec[4 + i] << (8 * i);
  if (rec[8] != idCheck(id)) return false;
  plateId = id;
  return true;
}

uint32_t mix(uint32_t h, uint32_t v) {  // FNV-1a over the four bytes of v
  for (uint8_t i = 0; i < 4; i++) h = (h ^ (uint8_t)(v >> (8 * i))) * 16777619UL;
  return h;
}

// First boot: the low bits of the first HX711 readings (thermal noise at gain 128), the
// chips' oscillator phases and floating analog pins differ from board to board.
void makePlateId() {
  uint32_t h = 2166136261UL;
  for (uint8_t i = 0; i < N_CH; i++) h = mix(mix(h, chips[i].count), chips[i].edgeUs);
  for (uint8_t a = 4; a < 6; a++) h = mix(h, analogRead(A0 + a));  // A4/A5 float
  h = mix(h, micros());
  if (h == 0 || h == 0xFFFFFFFFUL) h = 0x6D660001UL;
  uint8_t rec[9];
  memcpy(rec, EE_MAGIC, 4);
  for (uint8_t i = 0; i < 4; i++) rec[4 + i] = (uint8_t)(h >> (8 * i));
  rec[8] = idCheck(h);
  eeprom_update_block(rec, (void *)0, sizeof rec);
  plateId = h;
  idReady = true;
}

// ------------------------------------------------------------------------- HX711 ----

void setupPins() {
  pinMode(PIN_SCK, OUTPUT);
  digitalWrite(PIN_SCK, LOW);
  sckPort = portOutputRegister(digitalPinToPort(PIN_SCK));
  sckMask = digitalPinToBitMask(PIN_SCK);
  for (uint8_t i = 0; i < N_CH; i++) {
    // The pull-up makes an unplugged DOUT read "busy", never "ready".
    pinMode(PIN_DOUT[i], INPUT_PULLUP);
    volatile uint8_t *in = portInputRegister(digitalPinToPort(PIN_DOUT[i]));
    uint8_t p = 0;
    while (p < nPorts && inPorts[p] != in) p++;
    if (p == nPorts) inPorts[nPorts++] = in;
    chips[i].port = p;
    chips[i].mask = digitalPinToBitMask(PIN_DOUT[i]);
  }
}

// SCK high for more than 60 us powers every chip down; the falling edge powers them up
// with channel A, gain 128. It is the one clean restart the datasheet defines, so it also
// clears whatever half-finished read an MCU reset or a stray conversion left behind.
void resetChips() {
  *sckPort |= sckMask;
  delayMicroseconds(100);
  *sckPort &= ~sckMask;
  uint32_t now = micros();
  for (uint8_t i = 0; i < N_CH; i++) {
    Chip &c = chips[i];
    c.flags = (c.flags & (F_SILENT | F_RATE_WARNED)) | F_HIGH | F_CLOCKED;
    c.highUs = c.highSeenUs = now;
    c.lowUs = now;  // settling is not silence
  }
  learning = true;
  learnStartUs = now;
}

// One pulse train for all chips at once: 25 pulses (24 data bits, then one more that
// selects channel A gain 128 for the next conversion). Interrupts stay off so no pulse can
// stretch towards the 60 us power-down; the ports are only sampled here and decoded later.
void readTrain() {
  volatile uint8_t *sck = sckPort;
  const uint8_t np = nPorts;
  uint8_t sreg = SREG;
  cli();
  const uint8_t low = *sck & ~sckMask;
  const uint8_t high = low | sckMask;
  for (uint8_t p = 0; p < np; p++) snap[0][p] = *inPorts[p];
  for (uint8_t k = 1; k <= 25; k++) {
    *sck = high;
    __builtin_avr_delay_cycles(14);  // ~1 us high; the datasheet allows 0.2-50 us
    *sck = low;
    __builtin_avr_delay_cycles(4);  // DOUT changed on the rising edge; sample it while low
    for (uint8_t p = 0; p < np; p++) snap[k][p] = *inPorts[p];
  }
  SREG = sreg;
}

// A conversion edge of chip i, seen at `now`, last seen busy at `now - slop`.
void noteEdge(uint8_t i, uint32_t now, uint32_t slop) {
  Chip &c = chips[i];
  uint32_t edgeUs = now - slop / 2;
  if (slop > EDGE_SLOP_US && (c.flags & F_PHASE)) {
    // Too rough to improve a known phase; only an edge far off it means the chip restarted.
    int32_t miss = (int32_t)(edgeUs - c.nextUs);
    if (miss < 0) miss = -miss;
    if ((uint32_t)miss <= slop / 2 + KEEP_OUT_US / 2) return;
  }
  if ((c.flags & F_EDGE) && slop <= EDGE_SLOP_US) {
    uint32_t dt = edgeUs - c.edgeUs;
    if (dt >= PERIOD_MIN_US && dt <= EDGE_GAP_MAX_US) {
      if (c.periodUs == 0 || dt < c.periodUs - c.periodUs / 4) {
        c.periodUs = dt;  // first measurement, or the previous one spanned a missed edge
      } else {
        uint32_t k = (dt + c.periodUs / 2) / c.periodUs;  // edges missed while unread
        int32_t err = (int32_t)(dt / k) - (int32_t)c.periodUs;
        c.periodUs += err / 8;  // smooth out the poll loop's jitter
      }
      uint32_t off = c.periodUs > PERIOD_US ? c.periodUs - PERIOD_US : PERIOD_US - c.periodUs;
      if (off > PERIOD_US / 3 && !(c.flags & F_RATE_WARNED)) {
        c.flags |= F_RATE_WARNED;
        logChip(i, PSTR("converts every %lu us, not %lu; check its RATE pin"),
                (unsigned long)c.periodUs, (unsigned long)PERIOD_US);
      }
    }
  }
  c.edgeUs = edgeUs;
  if (slop <= EDGE_SLOP_US) {
    c.flags |= F_EDGE;  // good enough to measure the next period from
  } else {
    c.flags &= ~F_EDGE;
  }
  if (c.periodUs) {
    c.nextUs = edgeUs + c.periodUs;
    c.flags |= F_PHASE;
  }
}

void pollChips(uint32_t now) {
  uint8_t pins[3];
  for (uint8_t p = 0; p < nPorts; p++) pins[p] = *inPorts[p];  // all chips at one instant
  for (uint8_t i = 0; i < N_CH; i++) {
    Chip &c = chips[i];
    bool ready = !(pins[c.port] & c.mask);
    if (ready) {
      if (c.flags & F_HIGH) {
        // The end of a high run is a conversion edge if we had clocked the chip or the run
        // was an unread chip's short update; after power-up or a reconnection it is not.
        bool trusted = (c.flags & F_CLOCKED) || (now - c.highUs) < BLIP_MAX_US;
        c.flags &= ~(F_HIGH | F_CLOCKED);
        if (trusted) {
          noteEdge(i, now, now - c.highSeenUs);
        } else {
          c.flags &= ~(F_EDGE | F_PHASE);
        }
      }
      c.lowUs = now;
      if (c.flags & F_SILENT) {
        c.flags &= ~F_SILENT;
        logChip(i, PSTR("answering again"));
      }
    } else {
      if (!(c.flags & F_HIGH)) {
        c.flags |= F_HIGH;
        c.highUs = now;
      }
      c.highSeenUs = now;
      if (!(c.flags & F_SILENT) && now - c.lowUs >= SILENT_US) {
        c.flags = (c.flags | F_SILENT) & ~(F_CLOCKED | F_EDGE | F_PHASE);
        logChip(i, PSTR("no conversion for 0.5 s; check its DOUT wire and power"));
      }
    }
    if (c.flags & F_PHASE) {
      while ((int32_t)(now - c.nextUs) > (int32_t)KEEP_OUT_US) c.nextUs += c.periodUs;
    }
  }
}

// True while a pulse train starting now could meet a predicted conversion.
bool inKeepOut(uint32_t now) {
  for (uint8_t i = 0; i < N_CH; i++) {
    const Chip &c = chips[i];
    if ((c.flags & F_PHASE) && (int32_t)(c.nextUs - now) < (int32_t)KEEP_OUT_US) return true;
  }
  return false;
}

// A sample is due when every chip has data, or the late ones are not expected before the
// frame deadline (slower, silent, timing not yet known), or the deadline has passed.
bool trainDue(uint32_t now) {
  if (learning) {
    // After power-up, watch the chips until their conversion times are known, so the
    // first trains already keep out of their way.
    bool known = true;
    for (uint8_t i = 0; i < N_CH; i++) {
      if (!(chips[i].flags & (F_PHASE | F_SILENT))) known = false;
    }
    if (!known && now - learnStartUs < LEARN_TIMEOUT_US) return false;
    learning = false;
    lastTrainUs = now - PERIOD_US;
  }
  if (inKeepOut(now)) return false;
  uint32_t elapsed = now - lastTrainUs;
  bool anyReady = false, waiting = false;
  for (uint8_t i = 0; i < N_CH; i++) {
    const Chip &c = chips[i];
    if (!(c.flags & F_HIGH)) {
      anyReady = true;
    } else if ((c.flags & F_PHASE) &&
               (int32_t)(c.nextUs - lastTrainUs) <= (int32_t)FRAME_DEADLINE_US) {
      waiting = true;  // its conversion is due within this frame
    }
  }
  if (elapsed >= FRAME_DEADLINE_US) return true;
  if (waiting) return false;
  return anyReady || elapsed >= PERIOD_US;
}

void latchSample() {
  uint32_t tUs = micros();  // the sample's time: the moment the conversions are taken
  // The loop pass that decided on this sample may have taken a while (an edge's period
  // update divides 32-bit numbers), so check the keep-out again at the real start.
  if (inKeepOut(tUs)) return;
  readTrain();
  uint32_t after = micros();
  lastTrainUs = tUs;
  uint8_t stale = 0;
  bool lateReady = false;
  int8_t lateCh = -1;
  for (uint8_t i = 0; i < N_CH; i++) {
    Chip &c = chips[i];
    const uint8_t p = c.port, m = c.mask;
    if (!(snap[0][p] & m)) {
      // Ready when the train began, so its 24 bits are one conversion -- unless DOUT is
      // low again after the 25th pulse: then a new word arrived mid-read.
      if (snap[25][p] & m) {
        uint32_t v = 0;
        for (uint8_t k = 1; k <= 24; k++) v = (v << 1) | ((snap[k][p] & m) ? 1 : 0);
        c.count = (int32_t)(v << 8) >> 8;  // sign-extend 24 -> 32 bits
        c.flags |= F_HIGH | F_CLOCKED;
        c.highUs = c.highSeenUs = after;  // the 25th pulse left DOUT high
        continue;
      }
    } else {
      for (uint8_t k = 1; k <= 25; k++) {
        if (!(snap[k][p] & m)) {
          lateReady = true;  // got only part of the pulses: its next read would be skewed
          lateCh = i;
        }
      }
    }
    stale |= 1 << i;
  }

  if (streaming) {
    uint8_t payload[7 + 4 * 8];
    payload[0] = seq & 0xFF;
    payload[1] = seq >> 8;
    for (uint8_t b = 0; b < 4; b++) payload[2 + b] = (uint8_t)(tUs >> (8 * b));
    payload[6] = stale;
    for (uint8_t i = 0; i < N_CH; i++) {
      for (uint8_t b = 0; b < 4; b++) payload[7 + 4 * i + b] = (uint8_t)(chips[i].count >> (8 * b));
    }
    sendFrame(TYPE_SAMPLE, payload, 7 + 4 * N_CH);
    seq++;  // also when the queue was full, so the host sees the loss
  }
  if (!idReady) makePlateId();
  if (lateReady) {
    logChip(lateCh, PSTR("became ready during a read; restarting the ADCs"));
    resetChips();
  }
}

// --------------------------------------------------------------------- commands ----

void runCommand() {
  cmdBuf[cmdLen] = '\0';
  if (cmdLen == 0 && !cmdTooLong) return;  // a bare newline is not a command
  if (!cmdTooLong && strcmp_P(cmdBuf, PSTR("info")) == 0) {
    infoPending = true;
  } else if (!cmdTooLong && strcmp_P(cmdBuf, PSTR("start")) == 0) {
    streaming = true;
  } else if (!cmdTooLong && strcmp_P(cmdBuf, PSTR("stop")) == 0) {
    streaming = false;
  } else {
    for (uint8_t i = 0; i < cmdLen; i++) {
      if (cmdBuf[i] < 0x20 || cmdBuf[i] > 0x7E) cmdBuf[i] = '?';  // LOG text stays UTF-8
    }
    char text[80];
    snprintf_P(text, sizeof text, PSTR("unknown command '%s%s' (use info, start or stop)"),
               cmdBuf, cmdTooLong ? "..." : "");
    sendLog(text);
  }
}

void readCommands() {
  while (Serial.available() > 0) {
    char ch = Serial.read();
    if (ch == '\r') continue;
    if (ch == '\n') {
      runCommand();
      cmdLen = 0;
      cmdTooLong = false;
    } else if (cmdLen < sizeof cmdBuf - 1) {
      cmdBuf[cmdLen++] = ch;
    } else {
      cmdTooLong = true;
    }
  }
}

// -------------------------------------------------------------------------- main ----

void setup() {
  Serial.begin(MIDFOOT_BAUD);
  setupPins();
  resetChips();  // opening the port resets an Uno, possibly in the middle of a read
  idReady = loadPlateId();
  infoPending = true;  // sent as soon as the plate id is known (first boot: first sample)
}

void loop() {
  uint32_t now = micros();
  pollChips(now);
  if (trainDue(now)) latchSample();
  readCommands();
  if (infoPending && idReady) sendInfo();
  pumpTx();
}
