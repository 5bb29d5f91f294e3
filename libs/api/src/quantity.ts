// resource.Quantity: the numbers in `resources.requests`, node `capacity` and `allocatable`
// (`"100m"`, `"1Gi"`, `"2"`, `"1e3"`, `"500Mi"`). A Quantity is held exactly, as a whole
// number of nano-units in a bigint, so sums over thousands of pods never drift; precision
// finer than one nano is rounded up (away from zero), as Kubernetes does. The canonical
// string follows Kubernetes' rules: keep the suffix family the value was written in, pick
// the largest suffix that leaves a whole mantissa, and show small or fractional binary
// amounts in decimal SI.

/** How a quantity was written, and so how its canonical string is written. */
export type QuantityFormat = 'DecimalSI' | 'BinarySI' | 'DecimalExponent';

/** Thrown for a string that is not a quantity; its message is Kubernetes' own. */
export class QuantityError extends Error {
  override readonly name = 'QuantityError';
}

export const quantityPattern = '^([+-]?[0-9.]+)([eEinumkKMGTP]*[-+]?[0-9]*)$';
const quantityRegexp = new RegExp(quantityPattern);
const errFormatWrong = `quantities must match the regular expression '${quantityPattern}'`;
const errNumeric = "unable to parse quantity's numeric part";
const errSuffix = "unable to parse quantity's suffix";

const NANO_PER_UNIT = 1_000_000_000n;

/** Decimal suffixes by power of ten. */
const decimalSuffixes: Record<string, number> = { n: -9, u: -6, m: -3, '': 0, k: 3, M: 6, G: 9, T: 12, P: 15, E: 18 };
const decimalSuffixByExponent = new Map(Object.entries(decimalSuffixes).map(([s, e]) => [e, s]));
/** Binary suffixes by power of 1024. */
const binarySuffixes: Record<string, number> = { Ki: 1, Mi: 2, Gi: 3, Ti: 4, Pi: 5, Ei: 6 };
const binarySuffixByPower = ['', 'Ki', 'Mi', 'Gi', 'Ti', 'Pi', 'Ei'];

/** Exponents beyond this are refused, so a hostile `1e999999` cannot make a giant bigint. */
const MAX_EXPONENT = 100;

function pow10(exponent: number): bigint {
  return 10n ** BigInt(exponent);
}

/** `numerator / denominator`, rounded away from zero. */
function divideRoundingUp(numerator: bigint, denominator: bigint): bigint {
  const quotient = numerator / denominator;
  if (quotient * denominator === numerator) return quotient;
  return numerator < 0n ? quotient - 1n : quotient + 1n;
}

function abs(value: bigint): bigint {
  return value < 0n ? -value : value;
}

export class Quantity {
  private constructor(
    /** The amount in nano-units (value × 10⁹). */
    readonly nanos: bigint,
    readonly format: QuantityFormat,
  ) {}

  /** Parses a quantity string; throws QuantityError with Kubernetes' message if it is not one. */
  static parse(text: string): Quantity {
    const match = quantityRegexp.exec(text);
    if (!match) throw new QuantityError(errFormatWrong);
    const [, numberPart, suffix] = match as unknown as [string, string, string];

    let sign = 1n;
    let digits = numberPart;
    if (digits.startsWith('+') || digits.startsWith('-')) {
      if (digits[0] === '-') sign = -1n;
      digits = digits.slice(1);
    }
    const dot = digits.indexOf('.');
    if (dot !== digits.lastIndexOf('.') || digits === '.' || digits.length === 0) throw new QuantityError(errNumeric);
    const whole = dot < 0 ? digits : digits.slice(0, dot);
    const fraction = dot < 0 ? '' : digits.slice(dot + 1);
    const mantissa = BigInt((whole || '0') + fraction);
    const fractionDigits = fraction.length;

    let format: QuantityFormat;
    // The value is mantissa × 10^(exp10 − fractionDigits) × 1024^pow1024.
    let exp10 = 0;
    let pow1024 = 0;
    if (suffix in decimalSuffixes) {
      format = 'DecimalSI';
      exp10 = decimalSuffixes[suffix]!;
    } else if (suffix in binarySuffixes) {
      format = 'BinarySI';
      pow1024 = binarySuffixes[suffix]!;
    } else if (/^[eE][-+]?[0-9]+$/.test(suffix)) {
      format = 'DecimalExponent';
      exp10 = Number(suffix.slice(1));
      if (Math.abs(exp10) > MAX_EXPONENT) throw new QuantityError(errSuffix);
    } else {
      throw new QuantityError(errSuffix);
    }

    let numerator = mantissa * 1024n ** BigInt(pow1024) * NANO_PER_UNIT;
    let denominator = pow10(fractionDigits);
    if (exp10 >= 0) numerator *= pow10(exp10);
    else denominator *= pow10(-exp10);
    const nanos = sign * divideRoundingUp(numerator, denominator);
    return new Quantity(nanos === 0n ? 0n : nanos, format);
  }

  /** Parses, or answers undefined for a string that is not a quantity. */
  static tryParse(text: string): Quantity | undefined {
    try {
      return Quantity.parse(text);
    } catch {
      return undefined;
    }
  }

  /** A quantity of `milli` thousandths of a unit (CPU millicores). */
  static fromMilli(milli: number | bigint, format: QuantityFormat = 'DecimalSI'): Quantity {
    return new Quantity(BigInt(milli) * 1_000_000n, format);
  }

  /** A quantity of whole units (bytes, pods). */
  static fromValue(value: number | bigint, format: QuantityFormat = 'DecimalSI'): Quantity {
    return new Quantity(BigInt(value) * NANO_PER_UNIT, format);
  }

  static zero(format: QuantityFormat = 'DecimalSI'): Quantity {
    return new Quantity(0n, format);
  }

  /** -1, 0 or 1 as this is less than, equal to or greater than `other`. */
  cmp(other: Quantity): -1 | 0 | 1 {
    return this.nanos < other.nanos ? -1 : this.nanos > other.nanos ? 1 : 0;
  }

  equals(other: Quantity): boolean {
    return this.nanos === other.nanos;
  }

  add(other: Quantity): Quantity {
    return new Quantity(this.nanos + other.nanos, this.format);
  }

  sub(other: Quantity): Quantity {
    return new Quantity(this.nanos - other.nanos, this.format);
  }

  isZero(): boolean {
    return this.nanos === 0n;
  }

  sign(): -1 | 0 | 1 {
    return this.nanos < 0n ? -1 : this.nanos > 0n ? 1 : 0;
  }

  /** Whole units, rounded up (Kubernetes' `Value()`): memory bytes, pod counts. */
  value(): number {
    return Number(divideRoundingUp(this.nanos, NANO_PER_UNIT));
  }

  /** Thousandths, rounded up (Kubernetes' `MilliValue()`): CPU millicores. */
  milliValue(): number {
    return Number(divideRoundingUp(this.nanos, 1_000_000n));
  }

  /** The canonical string Kubernetes would store and print. */
  toString(): string {
    if (this.nanos === 0n) return '0';
    let format = this.format;
    if (format === 'BinarySI') {
      const small = abs(this.nanos) < 1024n * NANO_PER_UNIT;
      const whole = this.nanos % NANO_PER_UNIT === 0n;
      // Small or fractional binary amounts read better (and stay exact) in decimal SI.
      if (small || !whole) format = 'DecimalSI';
    }
    if (format === 'BinarySI') {
      let mantissa = this.nanos / NANO_PER_UNIT;
      let power = 0;
      while (power < 6 && mantissa % 1024n === 0n) {
        mantissa /= 1024n;
        power++;
      }
      return `${mantissa}${binarySuffixByPower[power]}`;
    }
    // Largest exponent (a multiple of 3) that leaves a whole mantissa.
    let mantissa = this.nanos;
    let exponent = -9;
    while (mantissa % 1000n === 0n && (format === 'DecimalExponent' || exponent < 18)) {
      mantissa /= 1000n;
      exponent += 3;
    }
    if (format === 'DecimalExponent') return exponent === 0 ? `${mantissa}` : `${mantissa}e${exponent}`;
    return `${mantissa}${decimalSuffixByExponent.get(exponent)}`;
  }

  toJSON(): string {
    return this.toString();
  }
}

/** The canonical form of a quantity string (`"1024Mi"` → `"1Gi"`, `"0.5"` → `"500m"`). */
export function canonicalQuantity(text: string): string {
  return Quantity.parse(text).toString();
}

/** Compares two quantity strings: -1, 0 or 1. */
export function compareQuantities(a: string, b: string): -1 | 0 | 1 {
  return Quantity.parse(a).cmp(Quantity.parse(b));
}
