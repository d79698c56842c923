/** One feature's push on a risk prediction, in words and numbers. */
export interface RiskReason {
  feature: string;
  /** E.g. "2,400 lines changed (usually 120)". */
  text: string;
  /** Probability points this feature adds (negative: removes) compared with its usual value. */
  effect: number;
}

/** The predicted probability that a release fails, why, and what Release Pilot did about it. */
export interface RiskAssessment {
  probability: number;
  /** `forest` once trained on enough history, else the transparent `prior`. */
  model: 'forest' | 'prior';
  /** When the forest was trained (absent for the prior). */
  modelTrainedAt?: string;
  /** Above this probability a release is blocked unless overridden. */
  threshold: number;
  blocked: boolean;
  /** The strongest reasons, largest first. */
  reasons: RiskReason[];
  /** The features the prediction used (for retraining and the team overview). */
  features: Record<string, number>;
  /**
   * What the prediction had to do without, in words (e.g. the change's size when the request sent
   * no lines or files changed). An unknown change size never counts as low risk.
   */
  unknown?: string[];
  /** The plan the risk and traffic chose, and why. */
  plan?: { name: string; reason: string };
  /**
   * Where the requested plan is less careful than the one the risk would have chosen (in words):
   * starting it needs the releases.plan.override permission, and the timeline says so.
   */
  planOverride?: { shaped: string; lessCareful: string[] };
  /** Who overrode the gate, and why (needs the releases.risk.override permission). */
  override?: { actor: string; reason: string };
}
