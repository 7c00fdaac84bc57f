"""The errors hdbench raises on purpose; each message is one line for the user."""


class HdbenchError(Exception):
    """Base class: the command line prints these as one line, without a traceback."""


class SpecError(HdbenchError, ValueError):
    """A bad value in a spec, option or argument; the message names the field and what it wants."""


class StimulusError(HdbenchError, ValueError):
    """A stimulus handed to a panel cannot be played (wrong shape, NaN, infinite)."""


class BudgetExceededError(HdbenchError):
    """A batch of trials would spend more ratings than the panel's budget allows."""


class RatingsNotReadyError(HdbenchError):
    """A batch's ratings were asked for before the panel answered them."""


class ExactSamplingError(HdbenchError):
    """The exact target p_D cannot be sampled: too costly for its kind, or a sampler's limit was
    reached; the message says which and what to change."""


class WriteFailedError(HdbenchError):
    """A file could not be written (disk full, file-size limit, no permission): the message names
    the file and the reason; nothing half-written is left under its name."""


class MethodError(HdbenchError):
    """A method broke the protocol at the harness's boundary: it ran past its time limit, spent
    more than it planned, or handed back output that cannot be used; the message names the method
    and the field."""


class MethodOutputError(HdbenchError):
    """A method's final samples are not what the run asked for (their count or their shape)."""
