/** Shown on a CRM record page whose URL the extension could not read a contact from. */
export function ContactNotDetected() {
  return (
    <div class="centered" data-state="no-contact">
      <h1>Contact not detected</h1>
      <p class="muted">
        Open a contact (or a Salesforce lead) record to text them. If this is one, its address has a shape
        this extension does not recognise yet.
      </p>
    </div>
  );
}
