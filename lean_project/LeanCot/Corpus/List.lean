/-
LeanCot corpus: lists.
Core Lean 4 only (no Mathlib). Every proof is a tactic proof.
-/

universe u v w

namespace LeanCot.Corpus.List

variable {α : Type u} {β : Type v} {γ : Type w}

/-! ## Easy facts about core list operations -/

theorem nil_append' (l : List Nat) : [] ++ l = l := by
  rfl

theorem append_nil' (l : List Nat) : l ++ [] = l := by
  simp

theorem length_nil' : ([] : List Nat).length = 0 := by
  rfl

theorem length_three : [1, 2, 3].length = 3 := by
  rfl

theorem reverse_three : [1, 2, 3].reverse = [3, 2, 1] := by
  decide

theorem map_succ_example : [1, 2, 3].map (· + 1) = [2, 3, 4] := by
  rfl

theorem filter_example : [1, 2, 3, 4].filter (· > 2) = [3, 4] := by
  decide

theorem mem_example : 2 ∈ [1, 2, 3] := by
  decide

theorem not_mem_example : 5 ∉ [1, 2, 3] := by
  decide

theorem cons_ne_nil' (a : Nat) (l : List Nat) : a :: l ≠ [] := by
  simp

theorem length_append' (l₁ l₂ : List Nat) : (l₁ ++ l₂).length = l₁.length + l₂.length := by
  simp

theorem append_assoc' (a b c : List Nat) : a ++ b ++ c = a ++ (b ++ c) := by
  simp

theorem reverse_reverse' (l : List Nat) : l.reverse.reverse = l := by
  simp

theorem map_id' (l : List Nat) : l.map id = l := by
  simp

theorem length_map' (l : List Nat) (f : Nat → Nat) : (l.map f).length = l.length := by
  simp

theorem length_reverse' (l : List Nat) : l.reverse.length = l.length := by
  simp

theorem head?_cons' (a : Nat) (l : List Nat) : (a :: l).head? = some a := by
  rfl

theorem mem_cons_self' (a : Nat) (l : List Nat) : a ∈ a :: l := by
  simp

theorem replicate_length' (n a : Nat) : (List.replicate n a).length = n := by
  simp

theorem take_example : [1, 2, 3, 4, 5].take 2 = [1, 2] := by
  rfl

theorem drop_example : [1, 2, 3, 4, 5].drop 3 = [4, 5] := by
  rfl

theorem zip_example : [1, 2].zip [3, 4] = [(1, 3), (2, 4)] := by
  rfl

/-! ## Recursive definitions of our own -/

/-- Length, by structural recursion. -/
def len : List α → Nat
  | [] => 0
  | _ :: xs => len xs + 1

/-- Sum of a list of naturals. -/
def sum : List Nat → Nat
  | [] => 0
  | x :: xs => x + sum xs

/-- Append, by structural recursion on the first list. -/
def app : List α → List α → List α
  | [], m => m
  | x :: xs, m => x :: app xs m

/-- Reverse, naive version. -/
def rev : List α → List α
  | [] => []
  | x :: xs => app (rev xs) [x]

/-- Reverse with an accumulator. -/
def revAcc : List α → List α → List α
  | [], acc => acc
  | x :: xs, acc => revAcc xs (x :: acc)

/-- Map, by structural recursion. -/
def mapL (f : α → β) : List α → List β
  | [] => []
  | x :: xs => f x :: mapL f xs

/-- Count the elements satisfying a boolean predicate. -/
def countP (p : α → Bool) : List α → Nat
  | [] => 0
  | x :: xs => if p x then countP p xs + 1 else countP p xs

/-- Keep the elements satisfying a boolean predicate. -/
def keep (p : α → Bool) : List α → List α
  | [] => []
  | x :: xs => if p x then x :: keep p xs else keep p xs

/-- Every element satisfies `P`. -/
def All (P : α → Prop) : List α → Prop
  | [] => True
  | x :: xs => P x ∧ All P xs

/-- Maximum of a list of naturals (0 for the empty list). -/
def maxL : List Nat → Nat
  | [] => 0
  | x :: xs => max x (maxL xs)

/-- Interleave a separator between consecutive elements. -/
def intersperse (sep : α) : List α → List α
  | [] => []
  | [x] => [x]
  | x :: xs => x :: sep :: intersperse sep xs

theorem sum_example : sum [1, 2, 3, 4] = 10 := by
  rfl

theorem rev_example : rev [1, 2, 3] = [3, 2, 1] := by
  rfl

theorem maxL_example : maxL [3, 9, 2] = 9 := by
  decide

theorem countP_example : countP (· > 1) [0, 1, 2, 3] = 2 := by
  decide

theorem intersperse_example : intersperse 0 [1, 2, 3] = [1, 0, 2, 0, 3] := by
  rfl

theorem len_eq_length (l : List α) : len l = l.length := by
  induction l with
  | nil => rfl
  | cons x xs ih =>
    simp [len, ih]

theorem len_append (l₁ l₂ : List α) : len (l₁ ++ l₂) = len l₁ + len l₂ := by
  induction l₁ with
  | nil =>
    simp [len]
  | cons x xs ih =>
    simp only [List.cons_append, len]
    rw [ih]
    omega

theorem sum_append (l₁ l₂ : List Nat) : sum (l₁ ++ l₂) = sum l₁ + sum l₂ := by
  induction l₁ with
  | nil => simp [sum]
  | cons x xs ih =>
    simp only [List.cons_append, sum]
    rw [ih]
    omega

theorem sum_replicate (n a : Nat) : sum (List.replicate n a) = n * a := by
  induction n with
  | zero => simp [sum]
  | succ n ih =>
    simp only [List.replicate, sum]
    rw [ih, Nat.succ_mul]
    omega

theorem app_eq_append (l₁ l₂ : List α) : app l₁ l₂ = l₁ ++ l₂ := by
  induction l₁ with
  | nil => rfl
  | cons x xs ih =>
    simp only [app]
    rw [ih]
    rfl

theorem app_nil (l : List α) : app l [] = l := by
  induction l with
  | nil => rfl
  | cons x xs ih =>
    simp only [app]
    rw [ih]

theorem app_assoc (a b c : List α) : app (app a b) c = app a (app b c) := by
  induction a with
  | nil => rfl
  | cons x xs ih =>
    simp only [app]
    rw [ih]

theorem len_app (l₁ l₂ : List α) : len (app l₁ l₂) = len l₁ + len l₂ := by
  induction l₁ with
  | nil =>
    simp [app, len]
  | cons x xs ih =>
    simp only [app, len]
    rw [ih]
    omega

theorem rev_app (l₁ l₂ : List α) : rev (app l₁ l₂) = app (rev l₂) (rev l₁) := by
  induction l₁ with
  | nil =>
    simp only [app, rev]
    rw [app_nil]
  | cons x xs ih =>
    simp only [app, rev]
    rw [ih]
    rw [app_assoc]

theorem rev_rev (l : List α) : rev (rev l) = l := by
  induction l with
  | nil => rfl
  | cons x xs ih =>
    simp only [rev]
    rw [rev_app]
    rw [ih]
    rfl

theorem rev_eq_reverse (l : List α) : rev l = l.reverse := by
  induction l with
  | nil => rfl
  | cons x xs ih =>
    simp [rev, ih, app_eq_append]

theorem revAcc_spec (l acc : List α) : revAcc l acc = app (rev l) acc := by
  induction l generalizing acc with
  | nil => rfl
  | cons x xs ih =>
    simp only [revAcc, rev]
    rw [ih]
    rw [app_assoc]
    rfl

theorem revAcc_nil_eq_rev (l : List α) : revAcc l [] = rev l := by
  rw [revAcc_spec]
  exact app_nil (rev l)

theorem len_rev (l : List α) : len (rev l) = len l := by
  induction l with
  | nil => rfl
  | cons x xs ih =>
    simp only [rev, len]
    rw [len_app, ih]
    rfl

theorem mapL_eq_map (f : α → β) (l : List α) : mapL f l = l.map f := by
  induction l with
  | nil => rfl
  | cons x xs ih =>
    simp [mapL, ih]

theorem len_mapL (f : α → β) (l : List α) : len (mapL f l) = len l := by
  induction l with
  | nil => rfl
  | cons x xs ih =>
    simp only [mapL, len]
    rw [ih]

theorem mapL_append (f : α → β) (l₁ l₂ : List α) :
    mapL f (l₁ ++ l₂) = mapL f l₁ ++ mapL f l₂ := by
  induction l₁ with
  | nil => rfl
  | cons x xs ih =>
    simp only [List.cons_append, mapL]
    rw [ih]

theorem mapL_comp (f : α → β) (g : β → γ) (l : List α) :
    mapL g (mapL f l) = mapL (g ∘ f) l := by
  induction l with
  | nil => rfl
  | cons x xs ih =>
    simp only [mapL]
    rw [ih]
    rfl

theorem mapL_id (l : List α) : mapL id l = l := by
  induction l with
  | nil => rfl
  | cons x xs ih =>
    simp [mapL, ih]

theorem countP_le_len (p : α → Bool) (l : List α) : countP p l ≤ len l := by
  induction l with
  | nil => exact Nat.le_refl 0
  | cons x xs ih =>
    simp only [countP, len]
    split
    · omega
    · omega

theorem countP_append (p : α → Bool) (l₁ l₂ : List α) :
    countP p (l₁ ++ l₂) = countP p l₁ + countP p l₂ := by
  induction l₁ with
  | nil => simp [countP]
  | cons x xs ih =>
    simp only [List.cons_append, countP]
    by_cases hp : p x = true
    · simp only [hp, if_true]
      rw [ih]
      omega
    · simp only [hp]
      simp [ih]

theorem keep_len_eq_countP (p : α → Bool) (l : List α) : len (keep p l) = countP p l := by
  induction l with
  | nil => rfl
  | cons x xs ih =>
    cases hp : p x with
    | true =>
      simp [keep, countP, hp, len, ih]
    | false =>
      simp [keep, countP, hp, ih]

theorem keep_all_true (l : List α) : keep (fun _ => true) l = l := by
  induction l with
  | nil => rfl
  | cons x xs ih =>
    simp [keep, ih]

theorem keep_all_false (l : List α) : keep (fun _ => false) l = [] := by
  induction l with
  | nil => rfl
  | cons x xs ih =>
    simp [keep, ih]

theorem keep_idem (p : α → Bool) (l : List α) : keep p (keep p l) = keep p l := by
  induction l with
  | nil => rfl
  | cons x xs ih =>
    by_cases hp : p x = true
    · simp [keep, hp, ih]
    · simp [keep, hp, ih]

theorem mem_keep (p : α → Bool) (l : List α) (a : α) (h : a ∈ keep p l) : p a = true := by
  induction l with
  | nil =>
    simp [keep] at h
  | cons x xs ih =>
    simp only [keep] at h
    split at h
    · rename_i hpx
      cases h with
      | head => exact hpx
      | tail _ h' => exact ih h'
    · exact ih h

theorem All_append (P : α → Prop) (l₁ l₂ : List α) :
    All P (l₁ ++ l₂) ↔ All P l₁ ∧ All P l₂ := by
  induction l₁ with
  | nil =>
    simp [All]
  | cons x xs ih =>
    simp only [List.cons_append, All]
    rw [ih]
    constructor
    · rintro ⟨hx, h1, h2⟩
      exact ⟨⟨hx, h1⟩, h2⟩
    · rintro ⟨⟨hx, h1⟩, h2⟩
      exact ⟨hx, h1, h2⟩

theorem All_of_forall_mem (P : α → Prop) (l : List α) (h : ∀ x ∈ l, P x) : All P l := by
  induction l with
  | nil => trivial
  | cons x xs ih =>
    constructor
    · apply h
      simp
    · apply ih
      intro y hy
      apply h
      simp [hy]

theorem forall_mem_of_All (P : α → Prop) (l : List α) (h : All P l) : ∀ x ∈ l, P x := by
  induction l with
  | nil =>
    intro x hx
    cases hx
  | cons y ys ih =>
    intro x hx
    obtain ⟨hy, hys⟩ := h
    cases hx with
    | head => exact hy
    | tail _ hmem => exact ih hys x hmem

theorem All_mapL (f : α → β) (P : β → Prop) (l : List α) :
    All P (mapL f l) ↔ All (fun x => P (f x)) l := by
  induction l with
  | nil => exact Iff.rfl
  | cons x xs ih =>
    simp only [mapL, All]
    rw [ih]

theorem le_maxL (l : List Nat) (x : Nat) (h : x ∈ l) : x ≤ maxL l := by
  induction l with
  | nil => cases h
  | cons y ys ih =>
    simp only [maxL]
    cases h with
    | head => exact Nat.le_max_left x (maxL ys)
    | tail _ hmem =>
      have h1 := ih hmem
      have h2 := Nat.le_max_right y (maxL ys)
      omega

theorem sum_le_len_mul_maxL (l : List Nat) : sum l ≤ len l * maxL l := by
  induction l with
  | nil => exact Nat.le_refl 0
  | cons x xs ih =>
    simp only [sum, len, maxL]
    have hx : x ≤ max x (maxL xs) := Nat.le_max_left _ _
    have hm : maxL xs ≤ max x (maxL xs) := Nat.le_max_right _ _
    have h1 : len xs * maxL xs ≤ len xs * max x (maxL xs) := Nat.mul_le_mul_left _ hm
    rw [Nat.succ_mul]
    omega

theorem sum_mapL_add (l : List Nat) : sum (mapL (· + 1) l) = sum l + len l := by
  induction l with
  | nil => rfl
  | cons x xs ih =>
    simp only [mapL, sum, len]
    rw [ih]
    omega

theorem sum_mapL_double (l : List Nat) : sum (mapL (fun x => 2 * x) l) = 2 * sum l := by
  induction l with
  | nil => rfl
  | cons x xs ih =>
    simp only [mapL, sum]
    rw [ih]
    omega

theorem sum_rev (l : List Nat) : sum (rev l) = sum l := by
  induction l with
  | nil => rfl
  | cons x xs ih =>
    simp only [rev, sum]
    rw [app_eq_append, sum_append, ih]
    simp only [sum]
    omega

theorem sum_eq_zero_iff (l : List Nat) : sum l = 0 ↔ ∀ x ∈ l, x = 0 := by
  induction l with
  | nil => simp [sum]
  | cons x xs ih =>
    simp only [sum, List.mem_cons, forall_eq_or_imp]
    rw [← ih]
    omega

theorem len_intersperse (sep : α) (l : List α) (h : l ≠ []) :
    len (intersperse sep l) + 1 = 2 * len l := by
  induction l with
  | nil => contradiction
  | cons x xs ih =>
    cases xs with
    | nil => rfl
    | cons y ys =>
      simp only [intersperse, len]
      have hne : y :: ys ≠ [] := by simp
      specialize ih hne
      simp only [len] at ih
      omega

theorem len_eq_zero_iff (l : List α) : len l = 0 ↔ l = [] := by
  cases l with
  | nil => simp [len]
  | cons x xs => simp [len]

/-! ## Reasoning about core operations -/

theorem mem_append_left' (a : Nat) (l₁ l₂ : List Nat) (h : a ∈ l₁) : a ∈ l₁ ++ l₂ := by
  rw [List.mem_append]
  left
  exact h

theorem mem_map_of_mem' (f : Nat → Nat) (a : Nat) (l : List Nat) (h : a ∈ l) :
    f a ∈ l.map f := by
  rw [List.mem_map]
  exact ⟨a, h, rfl⟩

theorem map_append' (f : Nat → Nat) (l₁ l₂ : List Nat) :
    (l₁ ++ l₂).map f = l₁.map f ++ l₂.map f := by
  induction l₁ with
  | nil => rfl
  | cons x xs ih =>
    simp only [List.cons_append, List.map_cons]
    rw [ih]

theorem reverse_append' (l₁ l₂ : List Nat) :
    (l₁ ++ l₂).reverse = l₂.reverse ++ l₁.reverse := by
  simp

theorem length_pos_of_mem' (a : Nat) (l : List Nat) (h : a ∈ l) : 0 < l.length := by
  cases l with
  | nil => cases h
  | cons x xs => simp

theorem exists_mem_of_ne_nil' (l : List Nat) (h : l ≠ []) : ∃ x, x ∈ l := by
  cases l with
  | nil => exact absurd rfl h
  | cons x xs =>
    exists x
    simp

theorem filter_length_le (p : Nat → Bool) (l : List Nat) : (l.filter p).length ≤ l.length := by
  induction l with
  | nil => simp
  | cons x xs ih =>
    rw [List.filter_cons]
    split
    · simp only [List.length_cons]
      omega
    · simp only [List.length_cons]
      omega

theorem append_eq_nil_iff' (l₁ l₂ : List Nat) : l₁ ++ l₂ = [] ↔ l₁ = [] ∧ l₂ = [] := by
  constructor
  · intro h
    cases l₁ with
    | nil => exact ⟨rfl, h⟩
    | cons x xs => simp at h
  · rintro ⟨rfl, rfl⟩
    rfl

theorem cons_eq_cons_iff' (a b : Nat) (l m : List Nat) : a :: l = b :: m ↔ a = b ∧ l = m := by
  constructor
  · intro h
    injection h with h1 h2
    exact ⟨h1, h2⟩
  · rintro ⟨rfl, rfl⟩
    rfl

theorem take_append_drop' (n : Nat) (l : List Nat) : l.take n ++ l.drop n = l := by
  simp

theorem map_map_example (l : List Nat) :
    (l.map (· + 1)).map (· * 2) = l.map (fun x => (x + 1) * 2) := by
  simp [List.map_map]

theorem length_replicate_append (n m a : Nat) :
    (List.replicate n a ++ List.replicate m a).length = n + m := by
  simp

theorem head_of_eq_cons (l : List Nat) (a : Nat) (t : List Nat) (h : l = a :: t) :
    l.head? = some a := by
  subst h
  rfl

theorem mem_singleton_iff' (a b : Nat) : a ∈ [b] ↔ a = b := by
  simp

theorem forall_mem_map_succ (l : List Nat) : ∀ y ∈ l.map (· + 1), 0 < y := by
  intro y hy
  rw [List.mem_map] at hy
  obtain ⟨x, _, rfl⟩ := hy
  omega

theorem nodup_example : [1, 2, 3].Nodup := by
  decide

theorem sum_example_via_foldl : [1, 2, 3].foldl (· + ·) 0 = 6 := by
  rfl

theorem funext_map : (fun l : List Nat => l.map id) = id := by
  funext l
  simp

theorem reverse_eq_nil_iff' (l : List Nat) : l.reverse = [] ↔ l = [] := by
  simp

theorem length_cons_pos (a : Nat) (l : List Nat) : 0 < (a :: l).length := by
  simp

theorem getLast_example : [1, 2, 3].getLast? = some 3 := by
  rfl

/-! ## More practice with `calc`, `show`, `specialize`, `simp_all`, `intros`, `repeat` -/

theorem calc_sum_three (a b c : Nat) : sum [a, b, c] = a + b + c := by
  calc sum [a, b, c] = a + (b + (c + 0)) := rfl
    _ = a + b + c := by omega

theorem show_len_cons (x : α) (xs : List α) : len (x :: xs) = len xs + 1 := by
  show len xs + 1 = len xs + 1
  rfl

theorem specialize_all_mem (P : Nat → Prop) (l : List Nat) (h : ∀ x ∈ l, P x)
    (hmem : 3 ∈ l) : P 3 := by
  specialize h 3 hmem
  exact h

theorem simp_all_mem (l : List Nat) (h : l = [1, 2]) (x : Nat) (hx : x ∈ l) : x ≤ 2 := by
  simp_all
  omega

theorem intros_append_nil : ∀ l₁ l₂ : List Nat, l₁ = [] → l₁ ++ l₂ = l₂ := by
  intros l₁ l₂ h
  rw [h]
  rfl

theorem repeat_cons_mem : 4 ∈ [1, 2, 3, 4] := by
  repeat (first | exact List.Mem.head _ | apply List.Mem.tail)

theorem rw_rev_sum_append (l₁ l₂ : List Nat) (h : sum l₁ + sum l₂ = 7) :
    sum (l₁ ++ l₂) = 7 := by
  rw [← h]
  exact sum_append l₁ l₂

theorem exists_list_sum : ∃ l : List Nat, sum l = 5 ∧ len l = 2 := by
  exists [2, 3]

theorem funext_len : (fun l : List Nat => len l) = (fun l => l.length) := by
  funext l
  exact len_eq_length l

theorem sum_le_of_sublist_prefix (l₁ l₂ : List Nat) : sum l₁ ≤ sum (l₁ ++ l₂) := by
  have h := sum_append l₁ l₂
  omega

theorem len_rev_app (l₁ l₂ : List Nat) : len (rev (app l₁ l₂)) = len l₁ + len l₂ := by
  rw [len_rev]
  exact len_app l₁ l₂

end LeanCot.Corpus.List
