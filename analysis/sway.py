"""Postural sway metrics of a centre-of-pressure (CoP) trajectory, and ``midfoot sway``.

Two families of definitions are computed, and every number names the one it follows
(see ``docs/sway-metrics.md``):

- Santos & Duarte (2016), "A public data set of human balance evaluations", PeerJ
  4:e2648, doi:10.7717/peerj.2648: the published ``COParea`` (95 % prediction ellipse
  with the F distribution), ``COPvelo`` (path length / (N / fs)) and ``COPmfreq``
  (Welch mean frequency). These reproduce the data set's table to machine precision.
- Prieto et al. (1996), "Measures of postural steadiness: differences between healthy
  young and elderly adults", IEEE Trans Biomed Eng 43(9):956-966: RMS and mean
  distance, ranges, 95 % circle, per-axis mean velocities, median and 95 % power
  frequencies; plus the chi-square 95 % ellipse used by many later papers.

Filtering changes velocity and path metrics far more than area metrics, so the filter
used (or ``"none"``) is always part of the result.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np
from scipy import signal, stats

from daq.errors import MidfootError
from daq.reader import read_recording
from daq.series import PlateSeries

# Below this the Welch spectrum (segments of N/2 samples) has a handful of bins and the
# zero-phase filter's edge padding exceeds the signal; no balance trial is this short.
MIN_SAMPLES = 16

CONFIDENCE = 0.95
# One-sided standard normal quantile of Prieto et al.'s 95 % confidence circle.
PRIETO_Z95 = 1.645

# A 2nd-order Butterworth run forwards and backwards has a 4th-order magnitude response.
# Its -3 dB point falls below the design cutoff, so the design cutoff is raised by this
# factor (on the pre-warped frequency axis) to put -3 dB at the requested frequency:
# (sqrt(2) - 1) ** (1 / (2 * order)), i.e. Winter's 0.802 for order 2.
FILTER_DESIGN_ORDER = 2
FILTFILT_CUTOFF_CORRECTION = (math.sqrt(2.0) - 1.0) ** (1.0 / (2 * FILTER_DESIGN_ORDER))
NO_FILTER = "none"


@dataclass(frozen=True)
class SwayMetrics:
    """Sway metrics of one CoP trajectory; every field carries its unit in its name.

    Attributes
    ----------
    ellipse95_area_mm2 : float
        95 % prediction ellipse area in mm^2 with the F distribution, Santos & Duarte
        (2016) ``COParea``.
    mean_velocity_mm_s : float
        Resultant path length / (N / fs) in mm/s, Santos & Duarte (2016) ``COPvelo``.
    mean_frequency_hz : float
        Welch mean frequency in Hz, AP and ML combined by their power, Santos & Duarte
        (2016) ``COPmfreq``; NaN if the CoP never moves.
    path_length_mm : float
        Sum of the distances between successive samples in mm (Prieto et al.'s total
        excursion).
    rms_ap_mm, rms_ml_mm : float
        RMS of the mean-removed AP / ML CoP in mm (Prieto et al.), divisor N.
    range_ap_mm, range_ml_mm : float
        Maximum minus minimum of AP / ML CoP in mm.
    ellipse95_chi2_area_mm2 : float
        pi * chi2.ppf(0.95, 2) * sqrt(l1 * l2) in mm^2, l the eigenvalues of the
        sample covariance (divisor N - 1): the large-sample 95 % ellipse.
    rms_distance_mm, mean_distance_mm : float
        RMS and mean of the distance from the mean CoP in mm (Prieto et al.).
    circle95_area_mm2 : float
        Area in mm^2 of the circle of radius mean distance + 1.645 SD of distance
        (Prieto et al.'s 95 % confidence circle).
    median_frequency_ap_hz, median_frequency_ml_hz : float
        Frequency in Hz below which 50 % of the Welch power of AP / ML lies (Prieto et
        al.); NaN for an axis that never moves.
    f95_ap_hz, f95_ml_hz : float
        Frequency in Hz below which 95 % of the Welch power of AP / ML lies (Prieto et
        al.); NaN for an axis that never moves.
    mean_velocity_ap_mm_s, mean_velocity_ml_mm_s : float
        Sum of absolute AP / ML steps / (N / fs) in mm/s (Prieto et al.'s per-axis mean
        velocity, with Santos & Duarte's duration).
    duration_s : float
        N / fs in s, the duration every velocity is divided by.
    n_samples : int
        Number of samples N.
    fs_hz : float
        Sampling rate in Hz.
    filter : str
        ``"none"``, or the low-pass filter applied before every metric.
    """

    ellipse95_area_mm2: float
    mean_velocity_mm_s: float
    mean_frequency_hz: float
    path_length_mm: float
    rms_ap_mm: float
    rms_ml_mm: float
    range_ap_mm: float
    range_ml_mm: float
    ellipse95_chi2_area_mm2: float
    rms_distance_mm: float
    mean_distance_mm: float
    circle95_area_mm2: float
    median_frequency_ap_hz: float
    median_frequency_ml_hz: float
    f95_ap_hz: float
    f95_ml_hz: float
    mean_velocity_ap_mm_s: float
    mean_velocity_ml_mm_s: float
    duration_s: float
    n_samples: int
    fs_hz: float
    filter: str

    def to_dict(self) -> dict[str, float | int | str | None]:
        """Return the metrics as a JSON-ready dict; undefined (NaN) values become None."""
        out: dict[str, float | int | str | None] = {}
        for key, value in asdict(self).items():
            if isinstance(value, float) and not math.isfinite(value):
                out[key] = None
            else:
                out[key] = value
        return out


def sway_metrics(
    ap_mm: np.ndarray,
    ml_mm: np.ndarray,
    fs_hz: float,
    lowpass_hz: float | None = None,
) -> SwayMetrics:
    """Compute every sway metric of one uniformly sampled CoP trajectory.

    Nothing is filtered or detrended unless ``lowpass_hz`` is given; this is what
    reproduces the published Santos & Duarte (2016) values.

    Parameters
    ----------
    ap_mm : array_like
        Antero-posterior CoP in mm, one value per sample.
    ml_mm : array_like
        Medio-lateral CoP in mm, same length as ``ap_mm``.
    fs_hz : float
        Sampling rate in Hz, > 0.
    lowpass_hz : float or None, optional
        Cut-off in Hz (-3 dB) of a zero-phase 4th-order Butterworth low-pass applied to
        both axes first (a 2nd-order design run forwards and backwards, cut-off
        corrected for the double pass); must be below fs / 2. None (default) means
        unfiltered.

    Returns
    -------
    SwayMetrics
        All metrics, with the filter used recorded in ``filter``.

    Raises
    ------
    ValueError
        If the arrays are not 1-D, differ in length, have fewer than ``MIN_SAMPLES``
        samples or non-finite values, or if ``fs_hz`` or ``lowpass_hz`` is out of range.
    """
    ap, ml, fs = _validated(ap_mm, ml_mm, fs_hz, lowpass_hz)
    if lowpass_hz is None:
        filter_used = NO_FILTER
    else:
        ap = _zero_phase_lowpass(ap, fs, lowpass_hz)
        ml = _zero_phase_lowpass(ml, fs, lowpass_hz)
        filter_used = describe_lowpass(lowpass_hz)

    n = ap.size
    duration_s = n / fs
    path_mm = float(np.sum(np.hypot(np.diff(ap), np.diff(ml))))

    # Prieto et al. work on the CoP referenced to its mean.
    ap0 = ap - ap.mean()
    ml0 = ml - ml.mean()
    dist_mm = np.hypot(ap0, ml0)
    mean_dist_mm = float(dist_mm.mean())
    rms_dist_mm = float(np.sqrt(np.mean(dist_mm**2)))
    # Population SD (divisor N) as Prieto et al.: sqrt(RDIST^2 - MDIST^2).
    sd_dist_mm = float(np.sqrt(max(rms_dist_mm**2 - mean_dist_mm**2, 0.0)))
    circle_radius_mm = mean_dist_mm + PRIETO_Z95 * sd_dist_mm

    sqrt_l1l2 = _sqrt_eigen_product_mm2(ap, ml)

    f_hz, p_ap, p_ml = _welch_spectra(ap, ml, fs)

    return SwayMetrics(
        ellipse95_area_mm2=math.pi * sqrt_l1l2 * _f_prediction_ellipse_factor(n),
        mean_velocity_mm_s=path_mm / duration_s,
        mean_frequency_hz=_combined_mean_frequency_hz(f_hz, p_ap, p_ml),
        path_length_mm=path_mm,
        rms_ap_mm=float(np.sqrt(np.mean(ap0**2))),
        rms_ml_mm=float(np.sqrt(np.mean(ml0**2))),
        range_ap_mm=float(np.ptp(ap)),
        range_ml_mm=float(np.ptp(ml)),
        ellipse95_chi2_area_mm2=math.pi * float(stats.chi2.ppf(CONFIDENCE, 2)) * sqrt_l1l2,
        rms_distance_mm=rms_dist_mm,
        mean_distance_mm=mean_dist_mm,
        circle95_area_mm2=math.pi * circle_radius_mm**2,
        median_frequency_ap_hz=_power_fraction_frequency_hz(f_hz, p_ap, 0.5),
        median_frequency_ml_hz=_power_fraction_frequency_hz(f_hz, p_ml, 0.5),
        f95_ap_hz=_power_fraction_frequency_hz(f_hz, p_ap, 0.95),
        f95_ml_hz=_power_fraction_frequency_hz(f_hz, p_ml, 0.95),
        mean_velocity_ap_mm_s=float(np.sum(np.abs(np.diff(ap)))) / duration_s,
        mean_velocity_ml_mm_s=float(np.sum(np.abs(np.diff(ml)))) / duration_s,
        duration_s=duration_s,
        n_samples=n,
        fs_hz=fs,
        filter=filter_used,
    )


def describe_lowpass(lowpass_hz: float) -> str:
    """Describe the low-pass filter of :func:`sway_metrics` for a cut-off in Hz."""
    return f"butterworth 4th order zero-phase low-pass {lowpass_hz:g} Hz"


def _validated(
    ap_mm: np.ndarray, ml_mm: np.ndarray, fs_hz: float, lowpass_hz: float | None
) -> tuple[np.ndarray, np.ndarray, float]:
    """Check inputs once, at the boundary, and return them as float arrays."""
    try:
        fs = float(fs_hz)
    except (TypeError, ValueError):
        raise ValueError(f"fs_hz must be a number in Hz, got {fs_hz!r}.") from None
    if not math.isfinite(fs) or fs <= 0:
        raise ValueError(f"fs_hz must be a positive sampling rate in Hz, got {fs_hz!r}.")
    arrays = []
    for name, values in (("ap_mm", ap_mm), ("ml_mm", ml_mm)):
        try:
            arr = np.asarray(values, dtype=float)
        except (TypeError, ValueError):
            raise ValueError(f"{name} must be an array of numbers in mm.") from None
        if arr.ndim != 1:
            raise ValueError(f"{name} must be one-dimensional, got shape {arr.shape}.")
        arrays.append(arr)
    ap, ml = arrays
    if ap.size != ml.size:
        raise ValueError(
            f"ap_mm and ml_mm must have the same number of samples, got {ap.size} and {ml.size}."
        )
    if ap.size < MIN_SAMPLES:
        raise ValueError(
            f"sway metrics need at least {MIN_SAMPLES} samples but got {ap.size}; "
            "use a longer trial or a wider time window."
        )
    for name, arr in (("ap_mm", ap), ("ml_mm", ml)):
        bad = ~np.isfinite(arr)
        if bad.any():
            raise ValueError(
                f"{name} has {int(bad.sum())} missing (NaN) or infinite values, the first "
                f"at sample {int(np.argmax(bad))}; trim the trial to where someone stands "
                "on the plate."
            )
    if lowpass_hz is not None:
        try:
            fc = float(lowpass_hz)
        except (TypeError, ValueError):
            raise ValueError(f"lowpass_hz must be a number in Hz, got {lowpass_hz!r}.") from None
        if not (math.isfinite(fc) and 0 < fc < fs / 2):
            raise ValueError(
                f"the low-pass cut-off must be between 0 and half the sampling rate "
                f"({fs / 2:g} Hz), got {lowpass_hz!r} Hz."
            )
    return ap, ml, fs


def _zero_phase_lowpass(x_mm: np.ndarray, fs_hz: float, cutoff_hz: float) -> np.ndarray:
    """Zero-phase 4th-order Butterworth low-pass with -3 dB at ``cutoff_hz``."""
    # Correct on the bilinear-warped axis so the digital -3 dB point lands exactly.
    warped = math.tan(math.pi * cutoff_hz / fs_hz) / FILTFILT_CUTOFF_CORRECTION
    design_hz = math.atan(warped) * fs_hz / math.pi
    sos = signal.butter(FILTER_DESIGN_ORDER, design_hz, btype="lowpass", fs=fs_hz, output="sos")
    return signal.sosfiltfilt(sos, x_mm)


def _sqrt_eigen_product_mm2(ap_mm: np.ndarray, ml_mm: np.ndarray) -> float:
    """sqrt(l1 * l2) of the sample covariance (divisor N - 1), as Santos & Duarte."""
    cov = np.cov(np.column_stack((ap_mm, ml_mm)), rowvar=False)
    eig = np.linalg.eigvalsh(cov)
    # A still or straight-line trajectory has one zero eigenvalue that rounds below 0.
    return float(np.sqrt(np.prod(np.clip(eig, 0.0, None))))


def _f_prediction_ellipse_factor(n: int) -> float:
    """Scale of pi * sqrt(l1 l2) giving the 95 % prediction ellipse for n samples.

    F.ppf(0.95, 2, n - 2) * 2 (n - 1)(n + 1) / (n (n - 2)), as Santos & Duarte (2016).
    """
    f95 = float(stats.f.ppf(CONFIDENCE, 2, n - 2))
    return f95 * 2 * (n - 1) * (n + 1) / (n * (n - 2))


def _welch_spectra(
    ap_mm: np.ndarray, ml_mm: np.ndarray, fs_hz: float
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Welch power spectra of AP and ML with Santos & Duarte's (2016) settings.

    Hann window, segments of N // 2 samples overlapping by N // 4, no zero padding,
    mean removed per segment.
    """
    nperseg = ap_mm.size // 2
    kwargs = {
        "fs": fs_hz,
        "window": "hann",
        "nperseg": nperseg,
        "noverlap": ap_mm.size // 4,
        "nfft": nperseg,
        "detrend": "constant",
    }
    f_hz, p_ap = signal.welch(ap_mm, **kwargs)
    _, p_ml = signal.welch(ml_mm, **kwargs)
    return f_hz, p_ap, p_ml


def _combined_mean_frequency_hz(f_hz: np.ndarray, p_ap: np.ndarray, p_ml: np.ndarray) -> float:
    """Santos & Duarte's COPmfreq: per-axis trapz(f P) / trapz(P), weighted by sum(P)."""
    weighted = 0.0
    total = 0.0
    for p in (p_ap, p_ml):
        area = float(np.trapezoid(p, f_hz))
        if area > 0:
            weighted += float(np.trapezoid(f_hz * p, f_hz)) / area * float(p.sum())
            total += float(p.sum())
    return weighted / total if total > 0 else math.nan


def _power_fraction_frequency_hz(f_hz: np.ndarray, p: np.ndarray, fraction: float) -> float:
    """Frequency in Hz below which ``fraction`` of the (trapezoid-integrated) power lies.

    The cumulative power is interpolated linearly between spectrum bins; NaN when the
    spectrum holds no power.
    """
    cumulative = np.concatenate(([0.0], np.cumsum(np.diff(f_hz) * (p[1:] + p[:-1]) / 2)))
    total = cumulative[-1]
    if not total > 0:
        return math.nan
    target = fraction * total
    i = int(np.searchsorted(cumulative, target, side="left"))
    if i == 0:
        return float(f_hz[0])
    lo, hi = cumulative[i - 1], cumulative[i]
    return float(f_hz[i - 1] + (target - lo) / (hi - lo) * (f_hz[i] - f_hz[i - 1]))


# ---------------------------------------------------------------------------------------
# Loading: every file kind through the one reader.

CopArrays = tuple[np.ndarray, np.ndarray, np.ndarray, float]
"""(t_s, ap_mm, ml_mm, fs_hz) of a uniformly sampled CoP trajectory."""


def load_cop(path: str | Path) -> CopArrays:
    """The CoP trajectory of any recording :func:`daq.reader.read_recording` accepts.

    Parameters
    ----------
    path : str or pathlib.Path
        A Santos & Duarte trial, midfoot CoP or force text, or an HDF5 session.

    Returns
    -------
    t_s : numpy.ndarray
        Sample times in s.
    ap_mm, ml_mm : numpy.ndarray
        Antero-posterior and medio-lateral CoP in mm.
    fs_hz : float
        Sampling rate in Hz.

    Raises
    ------
    MidfootError
        If the file is missing or cannot be read, in one sentence.
    """
    series = read_recording(path)
    return series.t_s, series.cop_mm[:, 1], series.cop_mm[:, 0], float(series.rate_hz)


# ---------------------------------------------------------------------------------------
# A stretch of a recording, checked before its sway is computed.

# Timestamps printed with a few decimals (e.g. 0.033, 0.067 at 30 Hz) wobble by a few per
# cent of the period; anything beyond this is a gap or a clock problem, not rounding.
MAX_PERIOD_DEVIATION = 0.05
# Quiet standing moves the CoP within a few centimetres and the total force by a few per
# cent (Santos & Duarte's trials: range under 40 mm, force within 3 %); a hinge, a step or a
# weight shift goes far beyond either.
QUIET_RANGE_MM = 60.0
QUIET_FORCE_FRACTION = 0.08


@dataclass(frozen=True)
class SwayStretch:
    """The samples sway metrics are computed from, and what to warn about.

    Attributes
    ----------
    t_s, ap_mm, ml_mm : numpy.ndarray
        The stretch.
    fs_hz : float
        Its sampling rate.
    warning : str or None
        One sentence when the stretch holds movement rather than quiet standing.
    """

    t_s: np.ndarray
    ap_mm: np.ndarray
    ml_mm: np.ndarray
    fs_hz: float
    warning: str | None = None


def sway_stretch(
    series: PlateSeries, start_s: float | None = None, end_s: float | None = None
) -> SwayStretch:
    """The stretch ``start_s <= t < end_s`` of a recording, checked for sway metrics.

    Parameters
    ----------
    series : PlateSeries
        A recording (:func:`daq.reader.read_recording`).
    start_s, end_s : float, optional
        Window in series seconds (default: all of it).

    Returns
    -------
    SwayStretch
        With a warning when the stretch holds movement rather than quiet standing.

    Raises
    ------
    MidfootError
        Bad window times, too few samples, nobody on the plate, or uneven sampling.
    """
    name = Path(series.meta.source).name or "the recording"
    t_s = series.t_s
    for label, value in (("--start", start_s), ("--end", end_s)):
        if value is not None and not math.isfinite(value):
            raise MidfootError(f"{label} must be a finite time in s, not {value!r}")
    if start_s is not None and end_s is not None and start_s >= end_s:
        raise MidfootError(
            f"--start ({start_s:g} s) must be before --end ({end_s:g} s): swap or fix them"
        )
    keep = np.ones(t_s.size, dtype=bool)
    if start_s is not None:
        keep &= t_s >= start_s
    if end_s is not None:
        keep &= t_s < end_s
    if keep.sum() < MIN_SAMPLES:
        start_text = "the start" if start_s is None else f"{start_s:g} s"
        end_text = "the end" if end_s is None else f"{end_s:g} s"
        raise MidfootError(
            f"the window from {start_text} to {end_text} of {name} holds {int(keep.sum())} "
            f"samples but at least {MIN_SAMPLES} are needed: choose times within "
            f"{t_s[0]:g} s to {t_s[-1]:g} s"
        )
    t = t_s[keep]
    cop = series.cop_mm[keep]
    if not np.all(np.isfinite(cop)):
        raise MidfootError(
            f"nobody stands on the plate for part of that stretch of {name} (no centre of "
            "pressure): choose a stretch where the person stands still"
        )
    steps = np.diff(t)
    period = (t[-1] - t[0]) / (t.size - 1)
    worst = float(np.max(np.abs(steps - period)) / period)
    if worst > MAX_PERIOD_DEVIATION:
        raise MidfootError(
            f"the samples of {name} are not evenly spaced in that stretch (a step differs from "
            f"the mean period by {worst:.0%}): choose a stretch without gaps"
        )
    ap, ml = cop[:, 1], cop[:, 0]
    range_mm = float(max(np.ptp(ap), np.ptp(ml)))
    fz = series.fz_n[keep]
    swing = float(np.ptp(fz) / np.mean(fz)) if np.isfinite(fz).all() and np.mean(fz) > 0 else 0.0
    warning = None
    if range_mm > QUIET_RANGE_MM or swing > QUIET_FORCE_FRACTION:
        warning = (
            f"this stretch holds movement, not quiet standing (the CoP ranges {range_mm:.0f} mm, "
            f"the force {100 * swing:.0f} %): sway metrics describe standing still, so choose a "
            "still stretch with --start and --end"
        )
    return SwayStretch(t, ap, ml, float(1.0 / period), warning)
