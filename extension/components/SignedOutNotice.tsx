/** Above a sign-in form after the session ended (signed out here, or the relay refused a refresh). */
export function SignedOutNotice() {
  return (
    <p class="notice" data-testid="signed-out">
      You were signed out. Sign in again.
    </p>
  );
}
